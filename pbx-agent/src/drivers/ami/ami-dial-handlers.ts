import type { DialLeg, TrackedCall } from "./ami-call.js";
import { beginDial, endDial } from "./ami-call-progress.js";
import type { AmiMessage } from "./ami-message.js";
import type { CallTrackerContext } from "./ami-tracker-context.js";

/** A channel dials another: an extension rings, or the call leaves through a trunk. */
export function onDialBegin(tracker: CallTrackerContext, message: AmiMessage): void {
  const call = tracker.callOf(message.get("Linkedid") ?? message.get("DestLinkedid"));
  if (call === undefined) return;
  const to = call.channels.get(message.get("DestUniqueid") ?? "");
  if (to === undefined) {
    tracker.ignore("unknown_channel");
    return;
  }
  const at = tracker.timeOf(message);
  const from = message.get("Uniqueid") ?? "";
  beginDial(tracker, call, at, from, to, message.get("DestExten") ?? "", message.get("DialString") ?? "");
}

/** A dial ended. DialEnd can repeat (NOANSWER, then CANCEL); the first one counts. */
export function onDialEnd(tracker: CallTrackerContext, message: AmiMessage): void {
  const call = tracker.callOf(message.get("Linkedid") ?? message.get("DestLinkedid"));
  if (call === undefined) return;
  const destination = message.get("DestUniqueid") ?? "";
  const leg = call.legs.get(destination);
  if (leg === undefined) {
    // A dial Asterisk never announced a DialBegin for (an Atxfer's consultation) is not garbage.
    if (!call.channels.has(destination)) tracker.ignore("unknown_channel");
    return;
  }
  const status = message.get("DialStatus") ?? "";
  if (leg.status !== "") {
    // Newstate Up already answered it; anything else is a repeat (NOANSWER, then CANCEL).
    if (leg.status !== "ANSWER" || status !== "ANSWER") tracker.ignore("duplicate");
    return;
  }
  endDial(tracker, call, tracker.timeOf(message), leg, status);
}

/**
 * Asterisk 1.8–12 `Dial` with `SubEvent: Begin` (`UniqueID` → `DestUniqueID`) or `End`
 * (the dialer's `UniqueID` and a `DialStatus` for the whole Dial). Its Begin is what ties
 * the dialed channel to the call; its End often comes only at hangup, so an answer is
 * taken from the `Bridge` that links the two channels.
 */
export function onLegacyDial(tracker: CallTrackerContext, message: AmiMessage): void {
  const from = message.get("UniqueID") ?? "";
  const call = tracker.callOfChannel(from);
  if (call === undefined) {
    tracker.ignore("unknown_call");
    return;
  }
  const at = tracker.timeOf(message);
  if (message.get("SubEvent") === "Begin") {
    const to = tracker.moveChannel(message.get("DestUniqueID") ?? "", call, at);
    if (to === undefined) {
      tracker.ignore("unknown_channel");
      return;
    }
    beginDial(tracker, call, at, from, to, "", message.get("Dialstring") ?? "");
    return;
  }
  const status = message.get("DialStatus") ?? "";
  const open = [...call.legs.values()].filter((leg) => leg.from === from && leg.status === "");
  // ANSWER names no leg: with several still open, the Bridge already named the one that answered.
  const rest = status === "ANSWER" && open.length > 1 ? "CANCEL" : status;
  for (const leg of open) endDial(tracker, call, at, leg, rest);
}

/** Asterisk 1.8–12 `Bridge` with `Bridgestate: Link`: a dialed channel is connected, so it answered. */
export function onLegacyBridge(tracker: CallTrackerContext, message: AmiMessage): void {
  if (message.get("Bridgestate") !== "Link") return;
  const one = message.get("Uniqueid1") ?? "";
  const two = message.get("Uniqueid2") ?? "";
  const call = tracker.callOfChannel(one);
  if (call === undefined) {
    tracker.ignore("unknown_call");
    return;
  }
  const leg = openLeg(call, one, two) ?? openLeg(call, two, one);
  if (leg !== undefined) endDial(tracker, call, tracker.timeOf(message), leg, "ANSWER");
}

function openLeg(call: TrackedCall, from: string, to: string): DialLeg | undefined {
  const leg = call.legs.get(to);
  return leg !== undefined && leg.from === from && leg.status === "" ? leg : undefined;
}
