import type { TrackedCall, TrackedChannel } from "./ami-call.js";
import { extensionOfChannel, extensionOfInterface } from "./ami-call-progress.js";
import type { AmiMessage } from "./ami-message.js";
import type { CallTrackerContext } from "./ami-tracker-context.js";

/**
 * What happens to a call once it is up: hold, transfer, park, someone listening in.
 * None of these ends the call: it ends when its last channel hangs up, so an attended
 * transfer never closes it early nor names the transferring agent as the last one.
 */

/** `Hold` (13+; Asterisk 11 sends the same name with `Status: On|Off`). */
export function onHold(tracker: CallTrackerContext, message: AmiMessage): void {
  if (message.get("Status") === "Off") {
    onUnhold(tracker, message);
    return;
  }
  const call = tracker.callOfEvent(message);
  const channel = call?.channels.get(message.get("Uniqueid") ?? "");
  if (call === undefined || channel === undefined || channel.held) return;
  channel.held = true;
  tracker.emitHeld(call, tracker.timeOf(message), extensionOfChannel(channel, tracker.plan), channel.uniqueid);
}

/** `Unhold`; a BlindTransfer sends one with no Hold before it, which resumes nothing. */
export function onUnhold(tracker: CallTrackerContext, message: AmiMessage): void {
  const call = tracker.callOfEvent(message);
  const channel = call?.channels.get(message.get("Uniqueid") ?? "");
  if (call === undefined || channel === undefined || !channel.held) return;
  channel.held = false;
  tracker.emitResumed(call, tracker.timeOf(message), extensionOfChannel(channel, tracker.plan), channel.uniqueid);
}

/** A blind transfer (`BlindTransfer`, 13+): the call goes to `Extension`, which then rings by a Dial. */
export function onBlindTransfer(tracker: CallTrackerContext, message: AmiMessage): void {
  if (message.get("Result") !== "Success") return;
  const call = tracker.callOf(message.get("TransfereeLinkedid") ?? message.get("TransfererLinkedid"));
  if (call === undefined) return;
  const by = call.channels.get(message.get("TransfererUniqueid") ?? "");
  call.transferredTo = message.get("Extension") ?? "";
  tracker.emitTransferred(call, tracker.timeOf(message), extensionOfChannel(by, tracker.plan), by?.uniqueid ?? "");
}

/**
 * An attended transfer (`AttendedTransfer`, 13+): the transferee is joined to the
 * consultation call's target. The target is a phone, or the Local channel that dialed it.
 */
export function onAttendedTransfer(tracker: CallTrackerContext, message: AmiMessage): void {
  if (message.get("Result") !== "Success") return;
  const call = tracker.callOf(message.get("TransfereeLinkedid") ?? message.get("OrigTransfererLinkedid"));
  if (call === undefined) return;
  const target = call.channels.get(message.get("TransferTargetUniqueid") ?? "");
  const by = call.channels.get(message.get("OrigTransfererUniqueid") ?? "");
  call.transferredTo =
    extensionOfChannel(target, tracker.plan) ||
    extensionOfInterface(message.get("TransferTargetChannel") ?? "", tracker.plan) ||
    (message.get("TransferTargetCallerIDNum") ?? "");
  tracker.emitTransferred(call, tracker.timeOf(message), extensionOfChannel(by, tracker.plan), by?.uniqueid ?? "");
}

/** `ParkedCall`: the caller waits in a parking space; for the call that is a hold. */
export function onParkedCall(tracker: CallTrackerContext, message: AmiMessage): void {
  const call = tracker.callOfChannel(message.get("ParkeeUniqueid"));
  const parkee = call?.channels.get(message.get("ParkeeUniqueid") ?? "");
  if (call === undefined || parkee === undefined) return;
  call.parkedAt = message.get("ParkingSpace") ?? "";
  if (parkee.held) return;
  parkee.held = true;
  tracker.emitHeld(call, tracker.timeOf(message), call.transferredTo || call.answeredBy, parkee.uniqueid);
}

/**
 * `UnParkedCall`: someone picked the parked caller up. The retriever's channel started a
 * call of its own (dialing the parking space) and now joins this one; the call was
 * handed to them.
 */
export function onUnParkedCall(tracker: CallTrackerContext, message: AmiMessage): void {
  const call = tracker.callOfChannel(message.get("ParkeeUniqueid"));
  if (call === undefined) {
    tracker.ignore("unknown_call");
    return;
  }
  const at = tracker.timeOf(message);
  const parkee = call.channels.get(message.get("ParkeeUniqueid") ?? "");
  if (parkee !== undefined) parkee.held = false;
  call.parkedAt = "";
  const retriever = tracker.moveChannel(message.get("RetrieverUniqueid") ?? "", call, at);
  const extension =
    extensionOfChannel(retriever, tracker.plan) ||
    extensionOfInterface(message.get("RetrieverChannel") ?? "", tracker.plan);
  if (extension === "") return;
  call.transferredTo = extension;
  tracker.emitTransferred(call, at, call.answeredBy, retriever?.uniqueid ?? "");
}

/**
 * `ChanSpyStart`: the spying channel's call is a supervisor listening in, not a customer
 * call. What it emitted is held back (see TrackedCall.heldOutputs) and dropped at its end.
 */
export function onChanSpyStart(tracker: CallTrackerContext, message: AmiMessage): void {
  const call = tracker.callOf(message.get("SpyerLinkedid")) ?? tracker.callOfChannel(message.get("SpyerUniqueid"));
  if (call !== undefined) call.supervision = true;
}

/**
 * `MusicOnHoldStart`: music on hold started on a channel. Only a hold the driver's own
 * command asked for counts (a phone's hold sends Hold, and plays music to the other
 * party, which is no hold of theirs); see the hold command in ami-call-control.ts.
 */
export function onMusicOnHoldStart(tracker: CallTrackerContext, message: AmiMessage): void {
  // Looked up by channel, uncounted: most music on hold is not ours (queues, parking, phones' holds).
  const call = tracker.callOfChannel(message.get("Uniqueid"));
  const channel = call?.channels.get(message.get("Uniqueid") ?? "");
  if (call === undefined || channel === undefined || !channel.holdByCommand || channel.held) return;
  channel.held = true;
  tracker.emitHeld(
    call,
    tracker.timeOf(message),
    extensionOfChannel(channel, tracker.plan) || partyName(call, channel),
    channel.uniqueid,
  );
}

/**
 * `MusicOnHoldStop`, or `BridgeEnter`, of a channel the driver's hold command put on hold:
 * the Resume command's Bridge joined it to the other party again.
 */
export function onMusicOnHoldStop(tracker: CallTrackerContext, message: AmiMessage): void {
  // Looked up by channel, uncounted: most music on hold is not ours (queues, parking, phones' holds).
  const call = tracker.callOfChannel(message.get("Uniqueid"));
  const channel = call?.channels.get(message.get("Uniqueid") ?? "");
  if (call === undefined || channel === undefined || !channel.holdByCommand || !channel.held) return;
  channel.held = false;
  channel.holdByCommand = false;
  tracker.emitResumed(
    call,
    tracker.timeOf(message),
    extensionOfChannel(channel, tracker.plan) || partyName(call, channel),
    channel.uniqueid,
  );
}

/** A channel that is no extension: the number it dialed, or the caller's number for the first one. */
function partyName(call: TrackedCall, channel: TrackedChannel): string {
  return channel.dialedNumber || (channel === call.first ? call.fromNumber : "");
}
