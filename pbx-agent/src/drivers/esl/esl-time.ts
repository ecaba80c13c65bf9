// Call times are integer microseconds since the epoch, as FreeSWITCH's `Event-Date-Timestamp` and `*_uepoch` are.

/** Whole seconds between two times, rounded down as FreeSWITCH's billsec is; 0 if reversed. */
export function secondsBetween(fromMicros: number, toMicros: number): number {
  return toMicros > fromMicros ? Math.floor((toMicros - fromMicros) / 1_000_000) : 0;
}
