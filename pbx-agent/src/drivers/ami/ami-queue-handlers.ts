import { answerBy, extensionOfInterface, ringExtension } from "./ami-call-progress.js";
import type { AmiMessage } from "./ami-message.js";
import type { CallTrackerContext } from "./ami-tracker-context.js";

/**
 * app_queue. From Asterisk 13 its events carry the caller's snapshot (`Channel`,
 * `Uniqueid`, `Linkedid`) and the member's (`Dest*`), and the member's phone is rung by a
 * Dial whose DialBegin/DialEnd the dial handlers see; so here only the queue's name and
 * the abandon are taken. Before 13 (`Join`/`Leave`, `AgentCalled: SIP/203`,
 * `ChannelCalling`, `Member`, `BridgedChannel`) app_queue sends no Dial events at all, and
 * its own events are the only record of who rang and who answered.
 */

/** `QueueCallerJoin` (13+) and `Join` (before): the caller is waiting in a queue. */
export function onQueueJoin(tracker: CallTrackerContext, message: AmiMessage): void {
  const call = tracker.callOfEvent(message);
  if (call !== undefined && call.queue === "") call.queue = message.get("Queue") ?? "";
}

/** A member's phone is rung. Only the pre-13 shape needs handling: 13+ rings through a Dial. */
export function onAgentCalled(tracker: CallTrackerContext, message: AmiMessage): void {
  const call = tracker.callOfEvent(message);
  if (call === undefined) return;
  if (call.queue === "") call.queue = message.get("Queue") ?? "";
  const legacyInterface = message.get("AgentCalled");
  if (legacyInterface === undefined) return;
  const extension = extensionOfInterface(legacyInterface, tracker.plan) || memberNameExtension(tracker, message);
  ringExtension(tracker, call, tracker.timeOf(message), extension, "");
}

/**
 * A member answered. In 13+ the member's DialEnd already said so (and this changes
 * nothing); before 13 this is the answer, and `BridgedChannel` the member's channel.
 */
export function onAgentConnect(tracker: CallTrackerContext, message: AmiMessage): void {
  const call = tracker.callOfEvent(message);
  if (call === undefined) return;
  const at = tracker.timeOf(message);
  const member = message.get("Interface") ?? message.get("Member") ?? "";
  const extension = extensionOfInterface(member, tracker.plan) || memberNameExtension(tracker, message);
  const bridged = message.get("BridgedChannel");
  if (bridged !== undefined) tracker.moveChannel(bridged, call, at);
  ringExtension(tracker, call, at, extension, bridged ?? "");
  answerBy(tracker, call, at, extension, bridged ?? message.get("DestUniqueid") ?? "");
}

/** The caller hung up while waiting: unless someone answered, the call was abandoned. */
export function onQueueCallerAbandon(tracker: CallTrackerContext, message: AmiMessage): void {
  const call = tracker.callOfEvent(message);
  if (call === undefined) return;
  if (call.queue === "") call.queue = message.get("Queue") ?? "";
  if (call.answeredUs === undefined) call.abandoned = true;
}

function memberNameExtension(tracker: CallTrackerContext, message: AmiMessage): string {
  const name = message.get("MemberName") ?? message.get("AgentName") ?? "";
  return extensionOfInterface(name, tracker.plan);
}
