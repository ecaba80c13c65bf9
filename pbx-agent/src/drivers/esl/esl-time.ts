import { create } from "@bufbuild/protobuf";
import { type Timestamp, TimestampSchema } from "@bufbuild/protobuf/wkt";

/** Call times are integer microseconds since the epoch, as FreeSWITCH's `Event-Date-Timestamp` and `*_uepoch` are. */
export function timestampFromMicros(micros: number): Timestamp {
  const seconds = Math.floor(micros / 1_000_000);
  return create(TimestampSchema, { seconds: BigInt(seconds), nanos: (micros - seconds * 1_000_000) * 1000 });
}

/** Whole seconds between two times, rounded down as FreeSWITCH's billsec is; 0 if reversed. */
export function secondsBetween(fromMicros: number, toMicros: number): number {
  return toMicros > fromMicros ? Math.floor((toMicros - fromMicros) / 1_000_000) : 0;
}
