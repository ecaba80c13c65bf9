import { CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import type { Logger } from "@callmesh/platform/logging.js";
import { type OriginateExpectation, TrackedCall } from "./esl-call.js";
import type { EslEvent } from "./esl-event.js";
import { q850OfCause } from "./esl-hangup-cause.js";
import { describeLeg, type LegRole, parseChannelName, type TrackedLeg } from "./esl-leg.js";
import type { EslNumberPlan } from "./esl-number-plan.js";
import { bridgeDestination, isCrmVariable, parseOriginateArguments } from "./esl-originate-command.js";

/** The channel variable the driver sets on every originate so the call keeps the API's id. */
export const CALL_ID_VARIABLE = "callmesh_call_id";

/** What handlers may do to the tracker: look calls up, change them, and make it emit. */
export interface EslTrackerContext {
  readonly plan: EslNumberPlan;
  /** When the event happened on the PBX (`Event-Date-Timestamp`, µs), else now. */
  timeOf(event: EslEvent): number;
  /** The live call a leg belongs to. */
  callOfLeg(uuid: string | undefined): TrackedCall | undefined;
  takeExpectation(callId: string): OriginateExpectation | undefined;
  /** `callId` is a Spy's spy_call_id the driver expects: the leg becomes that supervision session's (once). */
  claimSpy(callId: string, legUuid: string): boolean;
  /** A supervisor's leg found on FreeSWITCH carrying a spy_call_id (a restarted agent): that session again. */
  adoptSpy(spyCallId: string, legUuid: string, supervisor: string): void;
  /** The expected click-to-call an originate's echo is: by its bgapi Job-UUID, else by extension and destination. */
  expectedCallId(echo: { jobUuid?: string; extension: string; destination: string }): string | undefined;
  /** Originates whose role is not known yet, oldest first. */
  pendingOriginates(): TrackedCall[];
  newCallId(pbxCallId: string): string;
  startCall(call: TrackedCall): void;
  addLeg(call: TrackedCall, leg: TrackedLeg, role: LegRole): void;
  /** Moves every leg of `from` into `into` (its first leg taking `firstRole`); `from` is gone, unannounced. */
  absorb(into: TrackedCall, from: TrackedCall, firstRole: LegRole): void;
  emit(call: TrackedCall, kind: CallEventKind, atUs: number, leg: TrackedLeg, transferredTo?: string): void;
  /** The originate is a click-to-call after all: its held events go out. */
  release(call: TrackedCall): void;
  /** The last leg completed: HANGUP and the Cdr go out. */
  endCall(call: TrackedCall, atUs: number): void;
  ignore(reason: IgnoreReason): void;
  log(): Logger | undefined;
}

export type IgnoreReason = "malformed" | "unknown_call" | "duplicate" | "late";

export type EslEventHandler = (tracker: EslTrackerContext, event: EslEvent) => void;

/**
 * FreeSWITCH event name → the small handler that folds it into its call. Events not
 * listed (CHANNEL_STATE, CODEC, HEARTBEAT…, most of the traffic) are dropped on their
 * name, before their body is parsed.
 */
export const ESL_EVENT_HANDLERS: ReadonlyMap<string, EslEventHandler> = new Map([
  ["CHANNEL_CREATE", onCreate],
  ["CHANNEL_DATA", onChannelData],
  ["CHANNEL_ANSWER", onAnswer],
  ["CHANNEL_BRIDGE", onBridge],
  ["CHANNEL_HOLD", onHold],
  ["CHANNEL_UNHOLD", onHold],
  ["CHANNEL_EXECUTE", onExecute],
  ["CHANNEL_HANGUP", onHangup],
  ["CHANNEL_HANGUP_COMPLETE", onHangupComplete],
  ["CHANNEL_DESTROY", onDestroy],
  ["CUSTOM", onCustom],
  ["API", onOriginateEcho],
  ["BACKGROUND_JOB", onOriginateEcho],
]);

/** Applications that make an originate a listener on another call, not a call of its own. */
export const MONITOR_APPLICATIONS = new Set(["eavesdrop", "three_way", "userspy"]);
/** Applications that make an originate's phone take another call that rings (it answers that call). */
const PICKUP_APPLICATIONS = new Set(["intercept"]);

/** A channel starts: it joins the call it is tied to, or starts one. */
function onCreate(tracker: EslTrackerContext, event: EslEvent): void {
  const uuid = event.get("Unique-ID") ?? "";
  if (tracker.callOfLeg(uuid) !== undefined) {
    tracker.ignore("duplicate");
    return;
  }
  legOf(tracker, event, uuid);
}

/** The outbound-mode `connect` reply (and `getvar`-style dumps): the session's channel, seen for the first time. */
function onChannelData(tracker: EslTrackerContext, event: EslEvent): void {
  channelLeg(tracker, event);
}

/** The leg an event is about; a leg never seen created (the agent started mid-call) is created now. */
function legOf(tracker: EslTrackerContext, event: EslEvent, uuid: string): { call: TrackedCall; leg: TrackedLeg } {
  const known = tracker.callOfLeg(uuid);
  const knownLeg = known?.legs.get(uuid);
  if (known !== undefined && knownLeg !== undefined) return { call: known, leg: knownLeg };
  const at = tracker.timeOf(event);
  const leg = describeLeg(event, uuid, at, tracker.plan);
  const joined = callToJoin(tracker, event, uuid);
  if (joined !== undefined) {
    tracker.addLeg(joined, leg, "dialed");
    onDialed(tracker, joined, leg, leg.startedUs);
    return { call: joined, leg };
  }
  const call = startCall(tracker, event, leg);
  if (event.name !== "CHANNEL_CREATE") adoptBridgeHistory(tracker, call, leg, event);
  return { call, leg };
}

/**
 * A caller leg first seen late (the agent started mid-call, or a capture holds only its
 * CHANNEL_HANGUP_COMPLETE) still says whom it was bridged to and when: that party is
 * added as a dialed leg that answered, ended with the caller.
 */
function adoptBridgeHistory(tracker: EslTrackerContext, call: TrackedCall, leg: TrackedLeg, event: EslEvent): void {
  const bridgedUs = event.micros("variable_bridge_uepoch");
  const partnerUuid = event.variable("last_bridge_to") ?? event.variable("bridge_uuid");
  const channel = event.variable("bridge_channel");
  if (bridgedUs === undefined || partnerUuid === undefined || channel === undefined || call.legs.has(partnerUuid))
    return;
  if (event.variable("last_bridge_role") !== "originator") return;
  const user = event.variable("dialed_user") ?? parseChannelName(channel).user;
  const extension = tracker.plan.isExtension(user) ? user : "";
  const partner: TrackedLeg = {
    ...leg,
    uuid: partnerUuid,
    channel,
    extension,
    trunk: extension === "" ? parseChannelName(channel).profile || channel : "",
    destination: event.get("Other-Leg-Destination-Number") ?? user,
    role: "dialed",
    order: leg.order + 1,
    startedUs: event.micros("Other-Leg-Channel-Created-Time") ?? bridgedUs,
    answeredUs: undefined,
    billsec: undefined,
  };
  tracker.addLeg(call, partner, "dialed");
  onDialed(tracker, call, partner, partner.startedUs);
  answerLeg(tracker, call, partner, bridgedUs);
  // Nothing more will come for it than for the caller: it ends with the caller.
  partner.hungUpUs = event.micros("variable_end_uepoch") ?? tracker.timeOf(event);
  partner.completedUs = partner.hungUpUs;
  partner.causeName = event.variable("bridge_hangup_cause") ?? "";
}

/**
 * How a new leg is tied to a live call: a callcenter agent leg names its caller; a
 * bridged or originated B-leg names its A-leg (`Other-Leg-Unique-ID`, `originator`); a
 * loopback half names its twin; every leg of one conversation shares `call_uuid`.
 */
function callToJoin(tracker: EslTrackerContext, event: EslEvent, uuid: string): TrackedCall | undefined {
  const candidates = [
    event.variable("cc_side") === "agent" ? event.variable("cc_member_session_uuid") : undefined,
    event.get("Other-Type") === "originatee" ? undefined : event.get("Other-Leg-Unique-ID"),
    event.variable("originator"),
    event.variable("originating_leg_uuid"),
    event.variable("other_loopback_leg_uuid"),
    event.variable("other_loopback_from_uuid"),
    event.variable("call_uuid"),
  ];
  for (const candidate of candidates) {
    if (candidate === undefined || candidate === uuid) continue;
    const call = tracker.callOfLeg(candidate);
    if (call !== undefined && !call.ended) return call;
  }
  return undefined;
}

function startCall(tracker: EslTrackerContext, event: EslEvent, leg: TrackedLeg): TrackedCall {
  const ourCallId = event.variable(CALL_ID_VARIABLE);
  if (ourCallId !== undefined && tracker.claimSpy(ourCallId, leg.uuid))
    return startSupervision(tracker, event, leg, ourCallId);
  // FreeSWITCH placed this leg itself (originate): outbound with no leg before it.
  const origin = event.get("Call-Direction") === "outbound" || ourCallId !== undefined ? "originate" : "dialed";
  const call = new TrackedCall(leg.uuid, ourCallId || tracker.newCallId(leg.uuid), leg, origin, {
    callerIdNumber: event.get("Caller-Caller-ID-Number") ?? "",
    callerIdName: event.get("Caller-Caller-ID-Name") ?? "",
  });
  tracker.startCall(call);
  if (ourCallId !== undefined) {
    const expectation = tracker.takeExpectation(ourCallId);
    call.expectation = expectation;
    call.toNumber = expectation?.destination ?? "";
    call.variableNames = Object.keys(expectation?.variables ?? {});
    for (const name of call.variableNames) {
      const value = event.variable(name);
      if (value !== undefined) call.variables.set(name, value);
    }
    call.pending = false;
  }
  if (origin === "originate") {
    const at = leg.startedUs;
    tracker.emit(call, CallEventKind.ORIGINATE, at, leg);
    if (leg.extension !== "") {
      call.addRung(leg);
      tracker.emit(call, CallEventKind.RINGING, at, leg);
    }
  }
  return call;
}

/**
 * The supervisor's leg of the driver's Spy: an originate kept pending (its events held, as any
 * originate's until its application shows what it is), folded into the spied call by its eavesdrop.
 */
function startSupervision(
  tracker: EslTrackerContext,
  event: EslEvent,
  leg: TrackedLeg,
  spyCallId: string,
): TrackedCall {
  const call = new TrackedCall(leg.uuid, spyCallId, leg, "originate", {
    callerIdNumber: event.get("Caller-Caller-ID-Number") ?? "",
    callerIdName: event.get("Caller-Caller-ID-Name") ?? "",
  });
  call.spySession = true;
  tracker.startCall(call);
  return call;
}

/** A leg the call dialed: an extension rings, or the call leaves through a trunk. */
function onDialed(tracker: EslTrackerContext, call: TrackedCall, leg: TrackedLeg, atUs: number): void {
  if (leg.extension !== "") {
    call.extensionDialed = true;
    call.addRung(leg);
    tracker.emit(call, CallEventKind.RINGING, atUs, leg);
  } else if (leg.trunk !== "") {
    // The outside number rings: an event (named by the number), not a rung extension.
    call.trunkDialed = true;
    if (call.trunk === "") call.trunk = leg.trunk;
    if (call.clickToCall && call.toNumber === "") call.toNumber = leg.destination;
    tracker.emit(call, CallEventKind.RINGING, atUs, leg);
  }
}

function onAnswer(tracker: EslTrackerContext, event: EslEvent): void {
  const found = channelLeg(tracker, event);
  if (found !== undefined) answerLeg(tracker, found.call, found.leg, tracker.timeOf(event));
}

/**
 * A leg answered. The caller's own leg answering (FreeSWITCH's callcenter, IVR or
 * voicemail picking it up) does not answer the call; a click-to-call's first leg is the
 * agent picking up. The first other party to answer is who answered the call.
 */
export function answerLeg(tracker: EslTrackerContext, call: TrackedCall, leg: TrackedLeg, atUs: number): void {
  if (leg.answeredUs !== undefined) return;
  leg.answeredUs = atUs;
  if (leg.role === "monitor") return;
  if (leg.role === "first") {
    if (call.clickToCall) {
      call.agentAnswered = true;
      if (leg.extension !== "") call.answeredExtensions.add(leg.extension);
    }
    return;
  }
  if (leg.extension !== "") call.answeredExtensions.add(leg.extension);
  // A loopback half answering is plumbing: the phone or trunk behind it answers the call.
  if (call.answeredUs !== undefined || (leg.extension === "" && leg.trunk === "")) return;
  call.answeredUs = atUs;
  call.answeredBy = leg.extension;
  call.connectedTo = leg.extension || leg.destination;
  tracker.emit(call, CallEventKind.ANSWERED, atUs, leg);
}

/**
 * Two legs are bridged. A leg of a call nobody was told about yet (a phone picking up a
 * parked caller) joins the caller's call. A bridge of the caller to a party other than
 * the one it was talking to is a transfer: FreeSWITCH sends no transfer event, only
 * UNBRIDGE, then a `transfer`/`uuid_bridge`/att_xfer, then this BRIDGE.
 */
function onBridge(tracker: EslTrackerContext, event: EslEvent): void {
  const found = channelLeg(tracker, event);
  if (found === undefined) return;
  const otherUuid = event.get("Other-Leg-Unique-ID") ?? event.get("Bridge-B-Unique-ID") ?? "";
  let { call } = found;
  const otherCall = tracker.callOfLeg(otherUuid);
  if (otherCall !== undefined && otherCall !== call) {
    const [into, from] = mergeOrder(call, otherCall);
    if (from === undefined) return;
    tracker.absorb(into, from, "pickup");
    call = into;
  }
  const other = call.legs.get(otherUuid);
  if (other === undefined) return;
  const at = tracker.timeOf(event);
  const partner = found.leg === call.first ? other : other === call.first ? found.leg : undefined;
  if (partner === undefined || partner.role === "monitor") return;
  call.parkedAt = "";
  if (partner.role === "pickup" && call.answeredUs === undefined) {
    // Picked up before anyone answered: the pickup answers the call.
    partner.role = "dialed";
    partner.answeredUs = undefined;
    answerLeg(tracker, call, partner, at);
    return;
  }
  const party = partner.extension || (partner.trunk !== "" ? partner.destination : "");
  if (call.answeredUs === undefined || party === "" || party === call.connectedTo) return;
  call.connectedTo = party;
  call.transferredTo = party;
  if (partner.extension !== "") call.answeredExtensions.add(partner.extension);
  tracker.emit(call, CallEventKind.TRANSFERRED, at, partner, party);
}

/** Which of two calls a bridge merges into which: only a call that emitted nothing can be absorbed. */
function mergeOrder(a: TrackedCall, b: TrackedCall): [TrackedCall, TrackedCall | undefined] {
  const aFree = !a.announced && !a.pending;
  const bFree = !b.announced && !b.pending;
  if (bFree && (!aFree || a.first.startedUs <= b.first.startedUs)) return [a, b];
  if (aFree) return [b, a];
  return [a, undefined];
}

function onHold(tracker: EslTrackerContext, event: EslEvent): void {
  const found = channelLeg(tracker, event);
  if (found === undefined || found.call.answeredUs === undefined) return;
  const held = event.name === "CHANNEL_HOLD";
  if (held) found.call.heldLegs.add(found.leg.uuid);
  else found.call.heldLegs.delete(found.leg.uuid);
  const kind = held ? CallEventKind.HELD : CallEventKind.RESUMED;
  tracker.emit(found.call, kind, tracker.timeOf(event), found.leg);
}

/** An application runs: the first one of an originate's leg says what the originate is. */
function onExecute(tracker: EslTrackerContext, event: EslEvent): void {
  const found = channelLeg(tracker, event);
  if (found === undefined) return;
  const { call, leg } = found;
  if (!call.clickToCall || leg !== call.first) return;
  const application = event.get("Application") ?? "";
  const data = event.get("Application-Data") ?? "";
  if (application === "bridge" && call.toNumber === "") call.toNumber = bridgeDestination(data);
  if (!call.pending) return;
  if (MONITOR_APPLICATIONS.has(application) || PICKUP_APPLICATIONS.has(application)) {
    foldIntoMonitored(tracker, call, data, PICKUP_APPLICATIONS.has(application) ? "pickup" : "monitor");
  } else if (application === "bridge") {
    tracker.release(call);
  }
}

/**
 * A supervisor's originate listens to another call: its legs become that call's monitor legs.
 * An intercepting phone's (`&intercept(<ringing leg>)`) become a pickup: bridged to the caller, it answers the call.
 */
function foldIntoMonitored(
  tracker: EslTrackerContext,
  spy: TrackedCall,
  targetUuid: string,
  role: LegRole = "monitor",
): void {
  const target = tracker.callOfLeg(targetUuid.trim());
  if (target === undefined || target === spy) {
    // The driver's Spy is never a call of its own, even when the spied call is gone.
    if (!spy.spySession) tracker.release(spy);
    return;
  }
  tracker.absorb(target, spy, role);
}

function onHangup(tracker: EslTrackerContext, event: EslEvent): void {
  const found = channelLeg(tracker, event);
  if (found === undefined) return;
  const { leg } = found;
  if (leg.hungUpUs !== undefined) return;
  leg.hungUpUs = tracker.timeOf(event);
  recordCause(leg, event);
}

/** A leg is gone for good; when it was the call's last, the call ends. */
function onHangupComplete(tracker: EslTrackerContext, event: EslEvent): void {
  const found = channelLeg(tracker, event);
  if (found === undefined) return;
  const { call, leg } = found;
  if (leg.completedUs !== undefined) {
    tracker.ignore("duplicate");
    return;
  }
  const at = tracker.timeOf(event);
  // A leg whose ANSWER went unseen (the agent started mid-call) still answered.
  const answeredAt = event.micros("variable_answer_uepoch");
  if (leg.answeredUs === undefined && answeredAt !== undefined) answerLeg(tracker, call, leg, answeredAt);
  leg.hungUpUs ??= event.micros("variable_end_uepoch") ?? at;
  recordCause(leg, event);
  const billsec = Number(event.variable("billsec"));
  if (Number.isFinite(billsec) && event.variable("billsec") !== undefined) leg.billsec = billsec;
  leg.completedUs = at;
  if (call.allLegsDone) tracker.endCall(call, at);
}

/** CHANNEL_DESTROY of a leg whose HANGUP_COMPLETE was filtered out or lost. */
function onDestroy(tracker: EslTrackerContext, event: EslEvent): void {
  const call = tracker.callOfLeg(event.get("Unique-ID"));
  const leg = call?.legs.get(event.get("Unique-ID") ?? "");
  if (call === undefined || leg === undefined || leg.completedUs !== undefined) return;
  const at = tracker.timeOf(event);
  leg.hungUpUs ??= at;
  leg.completedUs = at;
  if (call.allLegsDone) tracker.endCall(call, at);
}

/**
 * `Hangup-Cause` is FreeSWITCH's own name (ORIGINATOR_CANCEL, LOSE_RACE survive it);
 * `sip_term_status` is set only when the far end ended the leg.
 */
function recordCause(leg: TrackedLeg, event: EslEvent): void {
  const cause = event.get("Hangup-Cause") ?? event.variable("hangup_cause") ?? "";
  if (cause !== "" && leg.causeName === "") leg.causeName = cause;
  if (leg.causeName !== "") leg.q850 = q850OfCause(leg.causeName);
  const sip = Number(event.variable("sip_term_status"));
  if (Number.isInteger(sip) && sip > 0) leg.sipCode = sip;
}

/** mod_callcenter's `callcenter::info`: which queue, and how the caller left it. */
function onCustom(tracker: EslTrackerContext, event: EslEvent): void {
  if (event.get("Event-Subclass") !== "callcenter::info") return;
  const action = event.get("CC-Action");
  if (action !== "member-queue-start" && action !== "member-queue-end") return;
  const call = tracker.callOfLeg(event.get("CC-Member-Session-UUID") ?? event.get("Unique-ID"));
  if (call === undefined) {
    tracker.ignore("unknown_call");
    return;
  }
  if (action === "member-queue-start") {
    call.queue = queueName(event.get("CC-Queue") ?? "");
    return;
  }
  if (event.get("CC-Cause") === "Cancel") {
    const reason = event.get("CC-Cancel-Reason") ?? "";
    call.queueExit =
      reason === "TIMEOUT" || reason === "NO_AGENT_TIMEOUT" || reason === "EXIT_WITH_KEY" ? "gave_up" : "abandoned";
  }
}

/** `support@default` → `support`. */
function queueName(queue: string): string {
  const at = queue.indexOf("@");
  return at < 0 ? queue : queue.slice(0, at);
}

/**
 * FreeSWITCH echoes an originate's arguments (API event, BACKGROUND_JOB). For an
 * originate the driver did not send (another tool, a replayed capture) they tell a
 * click-to-call (`&bridge(…)`, a dialplan destination) from a supervisor's eavesdrop,
 * and name the destination and the CRM's variables.
 */
function onOriginateEcho(tracker: EslTrackerContext, event: EslEvent): void {
  const isApi = event.name === "API";
  if ((isApi ? event.get("API-Command") : event.get("Job-Command")) !== "originate") return;
  const args = parseOriginateArguments(
    (isApi ? event.get("API-Command-Argument") : event.get("Job-Command-Arg")) ?? "",
  );
  const okUuid = /^\+OK ([0-9a-fA-F-]{36})/.exec(event.body)?.[1];
  const named = okUuid ?? args.variables.origination_uuid;
  const call =
    (named === undefined ? undefined : tracker.callOfLeg(named)) ??
    tracker.pendingOriginates().find((candidate) => candidate.first.extension === args.extension);
  if (call === undefined || call.first.role !== "first" || !call.clickToCall) return;
  const jobUuid = isApi ? undefined : event.get("Job-UUID");
  const ours =
    args.variables[CALL_ID_VARIABLE] ??
    tracker.expectedCallId({ jobUuid, extension: args.extension, destination: args.destination });
  if (ours !== undefined && call.pending && call.expectation === undefined) bindExpectation(tracker, call, ours);
  if (call.variableNames.length === 0 && call.expectation === undefined) {
    call.variableNames = Object.keys(args.variables).filter(isCrmVariable);
    for (const name of call.variableNames)
      if (!call.variables.has(name)) call.variables.set(name, args.variables[name] ?? "");
  }
  if (!call.pending) return;
  const application = args.application?.name ?? "";
  if (MONITOR_APPLICATIONS.has(application) || PICKUP_APPLICATIONS.has(application)) {
    const role = PICKUP_APPLICATIONS.has(application) ? "pickup" : "monitor";
    foldIntoMonitored(tracker, call, args.application?.data ?? "", role);
    return;
  }
  if (call.toNumber === "") call.toNumber = args.destination;
  tracker.release(call);
}

/** The driver's click-to-call, recognised late (its leg did not carry the call id): it takes the API's id. */
function bindExpectation(tracker: EslTrackerContext, call: TrackedCall, callId: string): void {
  const expectation = tracker.takeExpectation(callId);
  call.callId = callId;
  if (expectation === undefined) return;
  call.expectation = expectation;
  call.toNumber ||= expectation.destination;
  call.variableNames = Object.keys(expectation.variables);
}

/** The call and leg of a channel event; a leg never seen created is adopted. */
function channelLeg(tracker: EslTrackerContext, event: EslEvent): { call: TrackedCall; leg: TrackedLeg } | undefined {
  const uuid = event.get("Unique-ID");
  if (uuid === undefined || uuid === "") {
    tracker.ignore("malformed");
    return undefined;
  }
  const call = tracker.callOfLeg(uuid);
  const leg = call?.legs.get(uuid);
  if (call !== undefined && leg !== undefined) return { call, leg };
  // Only events that carry the channel's profile can start a leg.
  if (event.get("Caller-Channel-Created-Time") === undefined && event.get("Channel-Name") === undefined) {
    tracker.ignore("unknown_call");
    return undefined;
  }
  return legOf(tracker, event, uuid);
}
