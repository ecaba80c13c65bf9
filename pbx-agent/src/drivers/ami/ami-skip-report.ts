import type { InputSkips } from "../../normalize/input-skips.js";
import type { AmiCallTrackerStats } from "./ami-call-tracker.js";
import type { AmiParserStats } from "./ami-parser.js";

/** The parser's and the tracker's counters of skipped input, and the metric reason of each. */
const PARSER_REASONS: readonly [keyof AmiParserStats, string][] = [
  ["oversizedLines", "oversized_line"],
  ["malformedLines", "malformed_line"],
  ["skippedBlocks", "malformed_block"],
  ["unterminatedFollows", "unterminated_follows"],
  ["truncatedBlocks", "truncated"],
];
const TRACKER_REASONS: readonly [keyof AmiCallTrackerStats["ignored"], string][] = [
  ["malformed", "malformed_event"],
  ["unknown_call", "unknown_call"],
  ["unknown_channel", "unknown_channel"],
  ["duplicate", "duplicate"],
  ["late", "late_event"],
];

/**
 * Turns the parser's and the tracker's running counters into skip reports: each call
 * reports what grew since the last one. The counters stay plain numbers on the hot path;
 * this runs once per chunk (normalizer) or per tick (driver).
 */
export interface AmiSkipReport {
  report(parser: Readonly<AmiParserStats>, tracker: Readonly<AmiCallTrackerStats>): void;
}

export function createAmiSkipReport(skips: InputSkips): AmiSkipReport {
  const reported: number[] = new Array(PARSER_REASONS.length + TRACKER_REASONS.length + 1).fill(0);
  const update = (index: number, reason: string, total: number) => {
    const delta = total - (reported[index] as number);
    if (delta <= 0) return;
    reported[index] = total;
    skips.skipped(reason, delta);
  };
  return {
    report(parser, tracker) {
      let index = 0;
      for (const [field, reason] of PARSER_REASONS) update(index++, reason, parser[field]);
      for (const [field, reason] of TRACKER_REASONS) update(index++, reason, tracker.ignored[field]);
      update(index, "unknown_event", tracker.unknownEvents);
    },
  };
}
