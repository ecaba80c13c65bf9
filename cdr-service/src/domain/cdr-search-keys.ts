import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Cdr } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";

// What every CDR store sorts and filters on, derived in one place so that each adapter
// answers a query alike.

/** The call's start in whole ms since epoch (its end if it has no start, 0 if neither): the sort key. */
export function cdrStartedAtMs(cdr: Cdr): number {
  const started = cdr.startedAt ?? cdr.endedAt;
  return started ? Math.floor(timestampMs(started)) : 0;
}

/** Every extension the call involves — caller, rung, missed, answering — once each. */
export function cdrExtensions(cdr: Cdr): string[] {
  const extensions = new Set([cdr.answeredBy, ...cdr.rungExtensions, ...cdr.missedExtensions, cdr.fromNumber]);
  extensions.delete("");
  return [...extensions];
}
