/**
 * Whole seconds between two call times (integer microseconds), to the nearest second; 0 if
 * reversed. One rule for both drivers wherever the agent counts talk or wait time itself: the
 * PBXes' own billsec rounds down, which turns 13.53 s of talk into 13, but the nearest second
 * is what a person calls the call's length (ast-real-15o's designed outcome: 14), and a
 * CDR must not depend on which PBX took the call.
 */
export function secondsBetween(fromMicros: number, toMicros: number): number {
  return toMicros > fromMicros ? Math.round((toMicros - fromMicros) / 1_000_000) : 0;
}
