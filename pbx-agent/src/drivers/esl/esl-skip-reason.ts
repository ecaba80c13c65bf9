/**
 * Why a piece of input was dropped: the `reason` label of
 * `callmesh_agent_pbx_input_skipped_total{driver="esl"}`. A closed set, so dashboards
 * can alert on each.
 * - oversized: a header block longer than the limit (a 1 MB line), dropped until the next frame
 * - garbage: bytes that are neither a frame nor a client command (binary, stray text)
 * - bad_content_length: a Content-Length that is not a byte count, or beyond the limit
 * - content_length_mismatch: a Content-Length that lies; the frame was cut back to its real end
 * - truncated: the stream ended inside a frame
 * - unknown_content_type: a frame type this driver does not read (text/event-xml…)
 * - malformed_event: an event body that cannot be parsed (bad JSON, no Event-Name)
 * - unknown_event: an event name FreeSWITCH does not define
 * - no_unique_id: a channel event without Unique-ID
 */
export type EslSkipReason =
  | "oversized"
  | "garbage"
  | "bad_content_length"
  | "content_length_mismatch"
  | "truncated"
  | "unknown_content_type"
  | "malformed_event"
  | "unknown_event"
  | "no_unique_id";
