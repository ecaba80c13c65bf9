import { type DialLeg, type FirstChannelFields, presented, type TrackedCall, type TrackedChannel } from "./ami-call.js";
import type { AmiMessage } from "./ami-message.js";

/** The channel variable the driver sets on every Originate so the call keeps the API's id. */
export const CALL_ID_VARIABLE = "CALLMESH_CALL_ID";

/** What handlers may do to the tracker: look calls up, change them, and make it emit. */
export interface CallTrackerContext {
  /** When the event happened on the PBX (its `Timestamp`), else now. */
  timeOf(message: AmiMessage): number;
  /** The call of a Linkedid; undefined (and counted) when it was never seen starting. */
  callOf(linkedid: string | undefined): TrackedCall | undefined;
  /** The call a channel belongs to, ended calls still waiting for their Cdr included. */
  callOfChannel(uniqueid: string | undefined): TrackedCall | undefined;
  describeChannel(uniqueid: string, name: string): TrackedChannel;
  startCall(first: TrackedChannel, fields: FirstChannelFields): void;
  addChannel(call: TrackedCall, channel: TrackedChannel): void;
  /** `CALLMESH_CALL_ID` arrived: the call takes that id if nothing went out yet. */
  bindCallId(call: TrackedCall, callId: string): void;
  /** The most recent click-to-call whose Local channel is `Local/<exten>@<context>`. */
  clickToCallOf(localChannel: string): TrackedCall | undefined;
  /** Emits ORIGINATE for a click-to-call that has not been announced yet. */
  announce(call: TrackedCall): void;
  emitRinging(call: TrackedCall, atUs: number, extension: string): void;
  emitAnswered(call: TrackedCall, atUs: number, extension: string): void;
  /** The last channel hung up: HANGUP now, the Cdr once Asterisk's own Cdr events had time to arrive. */
  endCall(call: TrackedCall, atUs: number): void;
  /** An event that changed nothing, for the counters. */
  ignore(reason: IgnoreReason): void;
}

export type IgnoreReason = "malformed" | "unknown_call" | "unknown_channel" | "duplicate" | "late";

export type AmiEventHandler = (tracker: CallTrackerContext, message: AmiMessage) => void;

/**
 * AMI event name → the small handler that folds it into its call. Events not listed
 * (Newexten, CEL, RTCP…, most of the traffic) are dropped before any field is read.
 * Later call shapes (queues, transfers, hold, park) add rows here.
 */
export const AMI_EVENT_HANDLERS: ReadonlyMap<string, AmiEventHandler> = new Map([
  ["Newchannel", onNewchannel],
  ["VarSet", onVarSet],
  ["NewCallerid", onNewCallerid],
  ["LocalBridge", onLocalBridge],
  ["DialBegin", onDialBegin],
  ["DialEnd", onDialEnd],
  ["HangupRequest", onHangupRequest],
  ["SoftHangupRequest", onHangupRequest],
  ["Hangup", onHangup],
  ["OriginateResponse", onOriginateResponse],
  ["Cdr", onCdr],
]);

/** A channel starts: the first one of a Linkedid starts a call, later ones join it. */
function onNewchannel(tracker: CallTrackerContext, message: AmiMessage): void {
  const uniqueid = message.get("Uniqueid");
  const linkedid = message.get("Linkedid");
  const name = message.get("Channel");
  if (!uniqueid || !linkedid || !name) {
    tracker.ignore("malformed");
    return;
  }
  if (tracker.callOfChannel(uniqueid) !== undefined) {
    tracker.ignore("duplicate");
    return;
  }
  if (uniqueid === linkedid) {
    tracker.startCall(tracker.describeChannel(uniqueid, name), {
      atUs: tracker.timeOf(message),
      context: message.get("Context") ?? "",
      exten: message.get("Exten") ?? "",
      callerIdNumber: message.get("CallerIDNum") ?? "",
      callerIdName: message.get("CallerIDName") ?? "",
    });
    return;
  }
  const call = tracker.callOf(linkedid);
  if (call === undefined) return;
  if (call.ended) {
    tracker.ignore("late");
    return;
  }
  tracker.addChannel(call, tracker.describeChannel(uniqueid, name));
}

/**
 * Channel variables: the call id the driver set on the Originate, and the variables a
 * click-to-call carries. Without the driver's list of names (a replay, a restarted
 * agent), the variables set on the Originate's Local channel before anything was
 * emitted are taken as the Originate's: Asterisk sets them as it creates the channel.
 */
function onVarSet(tracker: CallTrackerContext, message: AmiMessage): void {
  const name = message.get("Variable");
  if (name === undefined) {
    tracker.ignore("malformed");
    return;
  }
  const call = tracker.callOf(message.get("Linkedid"));
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
function onNewCallerid(tracker: CallTrackerContext, message: AmiMessage): void {
  const call = tracker.callOf(message.get("Linkedid"));
  if (call === undefined || message.get("Uniqueid") !== call.first.uniqueid) return;
  call.callerIdNumber = presented(message.get("CallerIDNum"));
  call.callerIdName = presented(message.get("CallerIDName"));
}

/** The Originate's Local pair is wired up: its variables are in, the call can be announced. */
function onLocalBridge(tracker: CallTrackerContext, message: AmiMessage): void {
  const call = tracker.callOf(message.get("LocalOneLinkedid") ?? message.get("Linkedid"));
  if (call !== undefined) tracker.announce(call);
}

/** A channel dials another: an extension rings, or the call leaves through a trunk. */
function onDialBegin(tracker: CallTrackerContext, message: AmiMessage): void {
  const call = tracker.callOf(message.get("Linkedid") ?? message.get("DestLinkedid"));
  if (call === undefined) return;
  const to = call.channels.get(message.get("DestUniqueid") ?? "");
  if (to === undefined) {
    tracker.ignore("unknown_channel");
    return;
  }
  const from = message.get("Uniqueid") ?? "";
  const leg: DialLeg = { from, to, status: "" };
  call.legs.set(to.uniqueid, leg);
  tracker.announce(call);
  // Originate's own dial of its Local channel: plumbing, not a call party.
  if (from === "") return;
  const at = tracker.timeOf(message);
  if (to.extension !== "") {
    if (!call.isAgentLeg(leg)) call.extensionDialed = true;
    if (!call.rung.includes(to.extension)) {
      call.rung.push(to.extension);
      tracker.emitRinging(call, at, to.extension);
    }
  } else if (to.trunk !== "") {
    call.trunkDialed = true;
    if (call.trunk === "") call.trunk = to.trunk;
    if (call.clickToCall && call.toNumber === "") call.toNumber = message.get("DestExten") ?? "";
  }
}

/** A dial ended: answered (who?), or why not. DialEnd can repeat; the first one counts. */
function onDialEnd(tracker: CallTrackerContext, message: AmiMessage): void {
  const call = tracker.callOf(message.get("Linkedid") ?? message.get("DestLinkedid"));
  if (call === undefined) return;
  const leg = call.legs.get(message.get("DestUniqueid") ?? "");
  if (leg === undefined) {
    tracker.ignore("unknown_channel");
    return;
  }
  if (leg.status !== "") {
    tracker.ignore("duplicate");
    return;
  }
  leg.status = message.get("DialStatus") ?? "";
  const party = leg.to.extension || leg.to.trunk;
  if (leg.from === "" || party === "") return;
  if (leg.status !== "ANSWER") {
    call.dialStatus = leg.status;
    return;
  }
  if (leg.to.extension !== "") call.answeredExtensions.add(leg.to.extension);
  if (call.isAgentLeg(leg)) {
    // Click-to-call: the agent picked up; the call is answered when the destination is.
    call.agentAnswered = true;
    return;
  }
  if (call.answeredUs !== undefined) return;
  const at = tracker.timeOf(message);
  call.answeredUs = at;
  call.answeredBy = leg.to.extension;
  tracker.emitAnswered(call, at, leg.to.extension);
}

/** Only its SIP code is of use: the first TechCause of a call is its decisive SIP response. */
function onHangupRequest(tracker: CallTrackerContext, message: AmiMessage): void {
  const techCause = message.get("TechCause");
  if (techCause === undefined) return;
  const call = tracker.callOf(message.get("Linkedid"));
  if (call !== undefined && call.sipCode === 0) call.sipCode = Number(techCause) || 0;
}

/** A channel is gone; when it was the call's last, the call ends. */
function onHangup(tracker: CallTrackerContext, message: AmiMessage): void {
  const call = tracker.callOf(message.get("Linkedid"));
  if (call === undefined) return;
  const channel = call.channels.get(message.get("Uniqueid") ?? "");
  if (channel === undefined) {
    tracker.ignore("unknown_channel");
    return;
  }
  if (channel.hungUp) {
    tracker.ignore("duplicate");
    return;
  }
  channel.hungUp = true;
  call.liveChannels--;
  const cause = Number(message.get("Cause")) || 0;
  call.lastQ850Code = cause;
  if (channel === call.first) call.q850Code = cause;
  const techCause = Number(message.get("TechCause")) || 0;
  if (call.sipCode === 0) call.sipCode = techCause;
  if (call.liveChannels === 0) tracker.endCall(call, tracker.timeOf(message));
}

/**
 * The outcome of an async Originate. It can come after the call's last Hangup, and on
 * failure names neither the channel's Uniqueid nor its suffix, so it is matched by name.
 */
function onOriginateResponse(tracker: CallTrackerContext, message: AmiMessage): void {
  const channel = message.get("Channel") ?? "";
  const call =
    tracker.callOfChannel(message.get("Uniqueid")) ??
    (channel.endsWith(";1") ? undefined : tracker.clickToCallOf(channel));
  if (call === undefined || !call.clickToCall) {
    tracker.ignore("unknown_call");
    return;
  }
  if (call.toNumber === "") call.toNumber = message.get("Exten") ?? "";
  if (message.response === "Failure") call.originateFailed = true;
}

/** Asterisk's own CDR of one channel: only its disposition is kept, raw. */
function onCdr(tracker: CallTrackerContext, message: AmiMessage): void {
  const uniqueid = message.get("UniqueID") ?? "";
  const call = tracker.callOfChannel(uniqueid);
  if (call === undefined) {
    tracker.ignore("unknown_call");
    return;
  }
  call.asteriskCdrs.push({ uniqueid, disposition: message.get("Disposition") ?? "" });
}
