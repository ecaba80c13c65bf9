import { create } from "@bufbuild/protobuf";
import { type Timestamp, TimestampSchema } from "@bufbuild/protobuf/wkt";

/**
 * Both drivers keep call times as integer microseconds since the epoch (exact for AMI's
 * `Timestamp:` and FreeSWITCH's `*_uepoch`); this is the protobuf Timestamp of one.
 */
export function timestampFromMicros(micros: number): Timestamp {
  const seconds = Math.floor(micros / 1_000_000);
  return create(TimestampSchema, { seconds: BigInt(seconds), nanos: (micros - seconds * 1_000_000) * 1000 });
}
