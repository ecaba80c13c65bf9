import { presented } from "./ami-call.js";
import { endDial } from "./ami-call-progress.js";
import type { AmiMessage } from "./ami-message.js";
import type { CallTrackerContext } from "./ami-tracker-context.js";

/** The channel variable the driver sets on every Originate so the call keeps the API's id. */
export const CALL_ID_VARIABLE = "CALLMESH_CALL_ID";

/** `ChannelState: 6` is Up. */
const UP = "6";

/**
 * A channel starts: the first one of a Linkedid starts a call, later ones join it.
 * Asterisk 11 sends no Linkedid: every channel then starts a call of its own, which the
 * Dial or LocalBridge that shows where it belongs folds into the right call. One created
 * with no extension to run is about to be dialed (a queue member, the far end of a Dial):
 * if nothing claims it, it is dropped at its hangup rather than reported as a call.
 */
export function onNewchannel(tracker: CallTrackerContext, message: AmiMessage): void {
  const uniqueid = message.get("Uniqueid");
  const name = message.get("Channel");
  if (!uniqueid || !name) {
    tracker.ignore("malformed");
    return;
  }
  const reportedLinkedid = message.get("Linkedid");
  const linkedid = reportedLinkedid || uniqueid;
  if (tracker.callOfChannel(uniqueid) !== undefined) {
    tracker.ignore("duplicate");
    return;
  }
  const facts = {
    atUs: tracker.timeOf(message),
    context: message.get("Context") ?? "",
    exten: message.get("Exten") ?? "",
    callerIdNumber: message.get("CallerIDNum") ?? "",
    callerIdName: message.get("CallerIDName") ?? "",
  };
  const channel = tracker.describeChannel(uniqueid, name, facts);
  const state = message.get("ChannelState");
  if (state === UP) channel.upUs = facts.atUs;
  if (uniqueid === linkedid) {
    const call = tracker.startCall(linkedid, channel, facts);
    call.provisional = !reportedLinkedid && facts.exten === "" && channel.parsed.local === undefined;
    return;
  }
  const call = tracker.callOf(linkedid);
  if (call === undefined) return;
  if (call.ended) {
    tracker.ignore("late");
    return;
  }
  tracker.addChannel(call, channel);
}

/**
 * A channel went Up: answered by a phone, or by an application (Answer, VoiceMail, Queue).
 * A dialed channel going Up is the answer of its dial: Asterisk sends it just before
 * DialEnd, and some captures (and Asterisk 11's late Dial End) have no DialEnd to rely on.
 */
export function onNewstate(tracker: CallTrackerContext, message: AmiMessage): void {
  if (message.get("ChannelState") !== UP) return;
  const uniqueid = message.get("Uniqueid") ?? "";
  const call = tracker.callOfChannel(uniqueid);
  const channel = call?.channels.get(uniqueid);
  if (call === undefined || channel === undefined || channel.upUs !== undefined) return;
  const at = tracker.timeOf(message);
  channel.upUs = at;
  const leg = call.legs.get(uniqueid);
  if (leg !== undefined && leg.status === "") endDial(tracker, call, at, leg, "ANSWER");
}

/**
 * Channel variables: the call id the driver set on the Originate, and the variables a
 * click-to-call carries. Without the driver's list of names (a replay, a restarted
 * agent), the variables set on the Originate's Local channel before anything was
 * emitted are taken as the Originate's: Asterisk sets them as it creates the channel.
 */
export function onVarSet(tracker: CallTrackerContext, message: AmiMessage): void {
  const name = message.get("Variable");
  if (name === undefined) {
    tracker.ignore("malformed");
    return;
  }
  const call = tracker.callOfEvent(message);
  if (call === undefined) return;
  const value = message.get("Value") ?? "";
  if (name === CALL_ID_VARIABLE) {
    tracker.bindCallId(call, value);
    return;
  }
  // app_dial's verdict, set right after its DialEnd and sometimes more precise (CHANUNAVAIL vs NOANSWER).
  if (name === "DIALSTATUS") {
    if (value !== "" && value !== "ANSWER" && call.answeredUs === undefined) call.dialStatus = value;
    return;
  }
  if (call.variables.has(name)) return;
  const expected = call.expectation?.variables;
  if (expected !== undefined) {
    if (Object.hasOwn(expected, name)) call.variables.set(name, value);
    return;
  }
  if (
    call.clickToCall &&
    !call.announced &&
    !name.startsWith("CALLMESH_") &&
    call.isOriginHalf(message.get("Channel") ?? "")
  ) {
    call.variables.set(name, value);
  }
}

/** The originating channel's caller id changed (an Originate's CallerID arrives this way). */
export function onNewCallerid(tracker: CallTrackerContext, message: AmiMessage): void {
  const call = tracker.callOfEvent(message);
  if (call === undefined || message.get("Uniqueid") !== call.first.uniqueid) return;
  call.callerIdNumber = presented(message.get("CallerIDNum"));
  call.callerIdName = presented(message.get("CallerIDName"));
}

/**
 * A Local channel's two halves are wired up. For the Originate's pair its variables are
 * in, and the call can be announced. Asterisk 11 names the halves by `Uniqueid1`/`Uniqueid2`
 * only: the `;2` half joins the call of the `;1` half here.
 */
export function onLocalBridge(tracker: CallTrackerContext, message: AmiMessage): void {
  const legacyOne = message.get("Uniqueid1");
  if (legacyOne !== undefined) {
    const call = tracker.callOfChannel(legacyOne);
    if (call === undefined) {
      tracker.ignore("unknown_call");
      return;
    }
    tracker.moveChannel(message.get("Uniqueid2") ?? "", call, tracker.timeOf(message));
    if (call.first.uniqueid === legacyOne) tracker.announce(call);
    return;
  }
  const call = tracker.callOf(message.get("LocalOneLinkedid") ?? message.get("Linkedid"));
  if (call !== undefined && call.first.uniqueid === message.get("LocalOneUniqueid")) tracker.announce(call);
}

/** Only its SIP code is of use: the first TechCause of a call is its decisive SIP response. */
export function onHangupRequest(tracker: CallTrackerContext, message: AmiMessage): void {
  const techCause = message.get("TechCause");
  if (techCause === undefined) return;
  const call = tracker.callOfEvent(message);
  if (call !== undefined && call.sipCode === 0) call.sipCode = Number(techCause) || 0;
}

/**
 * A channel is gone; when it was the call's last, the call ends. A channel whose Linkedid
 * changed on the way (a parked call picked up) moves to the call it now belongs to.
 */
export function onHangup(tracker: CallTrackerContext, message: AmiMessage): void {
  const call = tracker.callOfEvent(message);
  if (call === undefined) return;
  const uniqueid = message.get("Uniqueid") ?? "";
  const at = tracker.timeOf(message);
  const channel = call.channels.get(uniqueid) ?? tracker.moveChannel(uniqueid, call, at);
  if (channel === undefined) {
    tracker.ignore("unknown_channel");
    return;
  }
  if (channel.hungUp) {
    tracker.ignore("duplicate");
    return;
  }
  channel.hungUp = true;
  channel.endedUs = at;
  call.liveChannels--;
  const cause = Number(message.get("Cause")) || 0;
  channel.q850Code = cause;
  call.lastQ850Code = cause;
  if (channel === call.first) call.q850Code = cause;
  const techCause = Number(message.get("TechCause")) || 0;
  if (call.sipCode === 0) call.sipCode = techCause;
  if (call.liveChannels === 0) tracker.endCall(call, at);
}
