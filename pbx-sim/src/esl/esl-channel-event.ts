import { nowMicros } from "../shared/clock.js";
import type { RenderedEslEvent } from "./esl-call-render.js";
import { type EslEvent, eventHeader } from "./esl-event.js";
import { formatGmtDate, formatLocalDate } from "./esl-time.js";

/** Where FreeSWITCH 1.10.12 fires an event from (`Event-Calling-*`), as the fs-real captures print it. */
export type EventSource = readonly [file: string, func: string, line: number];

export const HANGUP_SOURCE: EventSource = ["switch_channel.c", "switch_channel_perform_hangup", 1166];
export const REPORTING_SOURCE: EventSource = [
  "switch_core_state_machine.c",
  "switch_core_session_reporting_state",
  943,
];
export const DESTROY_SOURCE: EventSource = ["switch_core_session.c", "switch_core_session_perform_destroy", 1741];
export const HOLD_SOURCE: EventSource = ["switch_channel.c", "switch_channel_mark_hold", 875];
/** fs-real-19s: every CHANNEL_ANSWER. */
export const ANSWER_SOURCE: EventSource = ["switch_channel.c", "switch_channel_perform_mark_answered", 3846];
/** fs-real-19s: CHANNEL_BRIDGE and CHANNEL_UNBRIDGE of the caller's leg. */
export const BRIDGE_SOURCE: EventSource = ["switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1689];
export const UNBRIDGE_SOURCE: EventSource = ["switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1879];
/** fs-real-19s: CHANNEL_EXECUTE. */
export const EXECUTE_SOURCE: EventSource = ["switch_core_session.c", "switch_core_session_exec", 2944];

/** The Event-* stamp of an event fired now: its date headers, and where it was fired from. */
function stamp(name: string, atUs: number, source: EventSource): Record<string, string> {
  const sec = Math.floor(atUs / 1_000_000);
  return {
    "Event-Name": name,
    "Event-Date-Local": formatLocalDate(sec),
    "Event-Date-GMT": formatGmtDate(sec),
    "Event-Date-Timestamp": String(atUs),
    "Event-Calling-File": source[0],
    "Event-Calling-Function": source[1],
    "Event-Calling-Line-Number": String(source[2]),
  };
}

/**
 * An event FreeSWITCH would fire about a channel now: its last event's channel data, renamed and
 * re-dated; `changes` replace headers of that name and are appended (where switch_channel_event_set_data
 * puts what the firing code adds: CHANNEL_EXECUTE's Application*, CHANNEL_HANGUP's cause).
 */
export function channelEvent(
  last: EslEvent,
  name: string,
  changes: ReadonlyArray<readonly [string, string]>,
  source: EventSource,
  atUs = nowMicros(),
): RenderedEslEvent {
  const changed = new Map(changes);
  const stamped = stamp(name, atUs, source);
  const headers: Array<readonly [string, string]> = [];
  for (const [key, value] of last.headers) {
    if (changed.has(key)) continue;
    headers.push([key, stamped[key] ?? value]);
  }
  headers.push(...changes);
  return { atUs, name, event: { headers } };
}

/** The headers of the firing stamp (Event-Name … Event-Sequence) and the channel's data after them. */
function splitStamp(last: EslEvent): {
  head: Array<readonly [string, string]>;
  data: Array<readonly [string, string]>;
} {
  const at = last.headers.findIndex(([key]) => key === "Event-Sequence");
  const head = last.headers.slice(0, at + 1).filter(([key]) => key !== "Event-Subclass");
  const data = last.headers.slice(at + 1).filter(([key]) => !/^(Bridge-[AB]-Unique-ID|Media-Bug-.*)$/.test(key));
  return { head, data };
}

/**
 * CHANNEL_BRIDGE / CHANNEL_UNBRIDGE of `leg` with `other`, in fs-real-19s's order: the stamp,
 * Bridge-A-Unique-ID and Bridge-B-Unique-ID, the leg's data up to its Caller-* profile, then
 * `Other-Type` and the other leg's profile as `Other-Leg-*`, then the leg's variables.
 */
export function bridgeEvent(
  name: "CHANNEL_BRIDGE" | "CHANNEL_UNBRIDGE",
  leg: EslEvent,
  other: EslEvent,
  otherType: "originatee" | "originator",
  atUs = nowMicros(),
): RenderedEslEvent {
  const stamped = stamp(name, atUs, name === "CHANNEL_BRIDGE" ? BRIDGE_SOURCE : UNBRIDGE_SOURCE);
  const { head, data } = splitStamp(leg);
  const own = data.filter(([key]) => key !== "Other-Type" && !key.startsWith("Other-Leg-"));
  const profileEnd = own.findLastIndex(([key]) => key.startsWith("Caller-")) + 1;
  const otherProfile = other.headers
    .filter(([key]) => key.startsWith("Caller-"))
    .map(([key, value]) => [`Other-Leg-${key.slice("Caller-".length)}`, value] as const);
  const headers: Array<readonly [string, string]> = [
    ...head.map(([key, value]) => [key, stamped[key] ?? value] as const),
    ["Bridge-A-Unique-ID", eventHeader(leg, "Unique-ID") ?? ""],
    ["Bridge-B-Unique-ID", eventHeader(other, "Unique-ID") ?? ""],
    ...own.slice(0, profileEnd),
    ["Other-Type", otherType],
    ...otherProfile,
    ...own.slice(profileEnd),
  ];
  return { atUs, name, event: { headers } };
}

/**
 * A CUSTOM event of `subclass` about a channel, in the order fs-real-12l's `callcenter::info`
 * shows one: Event-Subclass first, then the stamp, `before`, the channel's data, then `after`.
 */
export function customChannelEvent(
  subclass: string,
  leg: EslEvent,
  before: ReadonlyArray<readonly [string, string]>,
  after: ReadonlyArray<readonly [string, string]>,
  source: EventSource,
  atUs = nowMicros(),
): RenderedEslEvent {
  const stamped = stamp("CUSTOM", atUs, source);
  const { head, data } = splitStamp(leg);
  const headers: Array<readonly [string, string]> = [
    ["Event-Subclass", subclass],
    ...head.map(([key, value]) => [key, stamped[key] ?? value] as const),
    ...before,
    ...data,
    ...after,
  ];
  return { atUs, name: "CUSTOM", event: { headers } };
}
