import {
  type AddToConference,
  CommandStatus,
  type HangupCall,
  type HoldCall,
  type InterceptCall,
  type ParkCall,
  type ResumeCall,
  type SendDtmf,
  type SpyCall,
  SpyMode,
  type TransferCall,
  TransferMode,
} from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import type { Presence } from "@callmesh/gen/callmesh/events/v1/presence_pb.js";
import type { Logger } from "@callmesh/platform/logging.js";
import type { CommandOutcome, ControlAction } from "../../ports/pbx-driver.js";
import { commandOutcomeOfError } from "../command-outcome.js";
import {
  answerCallList,
  answerPresenceList,
  type ControlHandler,
  type ControlHandlers,
  dispatchControl,
} from "../control-answers.js";
import { buildEslActiveCall, buildEslSupervisionActiveCall } from "./esl-active-call.js";
import type { TrackedCall } from "./esl-call.js";
import { callerOf, holderOf, legOfParty, liveLegs, otherParty, ringingLegs } from "./esl-call-parties.js";
import type { EslCallTracker } from "./esl-call-tracker.js";
import { CALL_ID_VARIABLE } from "./esl-event-handlers.js";
import type { TrackedLeg } from "./esl-leg.js";
import type { EslNumberPlan } from "./esl-number-plan.js";
import { outcomeOfApiReply } from "./esl-refusal.js";

/** Where the control commands send legs in the dialplan (see docs/agent.md, "Call control on FreeSWITCH"). */
export interface EslControlDialplan {
  /** Context transfers and parks run in; `default`. */
  context: string;
  /** Valet-park slots, each an extension of `context` running `valet_park <lot> <slot>` (fs-real-21u: 701–709). */
  parkSlots: readonly string[];
  /** mod_conference profile of `conference:<room>@<profile>`; `default`. */
  conferenceProfile: string;
}

export interface EslCallControlDeps {
  readonly tracker: EslCallTracker;
  readonly plan: EslNumberPlan;
  readonly agentId: string;
  readonly dialplan: EslControlDialplan;
  /** How long a supervisor's or an intercepting phone rings (originate_timeout), in s. */
  readonly ringSeconds: number;
  /** How long a spy's or intercept's originate waits for a quick refusal before answering OK. */
  readonly verdictMs: number;
  readonly log: Logger;
  connected(): boolean;
  /** `api <command>`: resolves with the api/response text. */
  api(command: string): Promise<string>;
  /** `bgapi <command>`: the command/reply text, and the BACKGROUND_JOB body (undefined if none within `verdictMs`). */
  bgapi(command: string, verdictMs: number): Promise<{ reply: string; job: string | undefined }>;
  /** The latest presence of every extension. */
  presence(): Presence[];
}

/** What an extension, a number or a room may contain: nothing that changes the command or the dialplan. */
const DIALABLE = /^[0-9A-Za-z+*#_-]{1,64}$/;
const DTMF = /^[0-9*#A-Da-d]{1,64}$/;
/** A spy_call_id as the gateway mints them (a UUID), and as a click-to-call's id may be. */
const SPY_CALL_ID = /^[A-Za-z0-9._:-]{1,128}$/;

type Handler<C extends ControlAction["case"]> = ControlHandler<EslCallControlDeps, C>;

const wrongState = (message: string): CommandOutcome => ({ status: CommandStatus.WRONG_CALL_STATE, message });
const refused = (message: string): CommandOutcome => ({ status: CommandStatus.PBX_REFUSED, message });
const isOutcome = (value: TrackedLeg | CommandOutcome): value is CommandOutcome => "status" in value;

/** A command on a call the agent tracks: CALL_NOT_FOUND when it tracks none by that id, without asking FreeSWITCH. */
function onCall<T extends { callId: string }>(
  run: (deps: EslCallControlDeps, call: TrackedCall, command: T) => Promise<CommandOutcome>,
): (deps: EslCallControlDeps, command: T) => Promise<CommandOutcome> {
  return async (deps, command) => {
    const call = deps.tracker.findCall(command.callId);
    if (call === undefined)
      return { status: CommandStatus.CALL_NOT_FOUND, message: `no call ${command.callId} in progress` };
    if (!deps.connected()) return { status: CommandStatus.PBX_UNREACHABLE, message: "not connected to the PBX" };
    return run(deps, call, command);
  };
}

/** `api <command>`; its text (or the failure to get one) becomes the outcome. */
async function api(deps: EslCallControlDeps, command: string): Promise<CommandOutcome> {
  const name = command.split(" ")[0] ?? command;
  try {
    const outcome = outcomeOfApiReply(name, await deps.api(command));
    deps.log.info({ command: name, status: outcome.status }, outcome.message);
    return outcome;
  } catch (error) {
    return commandOutcomeOfError(error);
  }
}

/** `bgapi originate …`: refused at once, refused by its job within the verdict time, or queued (OK). */
async function originate(deps: EslCallControlDeps, command: string): Promise<CommandOutcome> {
  try {
    const { reply, job } = await deps.bgapi(command, deps.verdictMs);
    if (!reply.startsWith("+OK")) return outcomeOfApiReply("originate", reply);
    if (job === undefined) return { status: CommandStatus.OK, message: "originate queued, the phone is ringing" };
    return outcomeOfApiReply("originate", job);
  } catch (error) {
    return commandOutcomeOfError(error);
  }
}

/** The party named, or `fallback` when none is; a party the call does not have is WRONG_CALL_STATE. */
function partyOrDefault(
  call: TrackedCall,
  party: string,
  fallback: (call: TrackedCall) => TrackedLeg | undefined,
): TrackedLeg | CommandOutcome {
  const leg = party === "" ? fallback(call) : legOfParty(call, party);
  if (leg !== undefined) return leg;
  return wrongState(party === "" ? "the call has no such party now" : `party ${party} is not on the call`);
}

/** Hangup of a supervision session (by its spy_call_id): `uuid_kill` of the supervisor's leg. */
async function hangupSession(deps: EslCallControlDeps, spyCallId: string): Promise<CommandOutcome> {
  const session = deps.tracker.findSpySession(spyCallId);
  if (session === undefined)
    return { status: CommandStatus.CALL_NOT_FOUND, message: `no call ${spyCallId} in progress` };
  if (!deps.connected()) return { status: CommandStatus.PBX_UNREACHABLE, message: "not connected to the PBX" };
  if (session.leg === undefined) return wrongState("the supervisor's leg is not on FreeSWITCH yet");
  return api(deps, `uuid_kill ${session.leg.uuid}`);
}

/** Hangup of a call, or of a supervision session named by its spy_call_id. */
const hangup: Handler<"hangup"> = async (deps, command) =>
  deps.tracker.findSpySession(command.callId) === undefined
    ? hangupCall(deps, command)
    : hangupSession(deps, command.callId);

/** Hangup: `uuid_kill` of the party's leg, or of every live leg (a leg already gone does not fail the whole). */
const hangupCall = onCall<HangupCall>(async (deps, call, command) => {
  const targets = command.party === "" ? liveLegs(call) : [legOfParty(call, command.party)];
  const legs = targets.filter((leg) => leg !== undefined);
  if (legs.length === 0) {
    return wrongState(command.party === "" ? "the call has no live leg" : `party ${command.party} is not on the call`);
  }
  let outcome: CommandOutcome | undefined;
  for (const leg of legs) {
    const result = await api(deps, `uuid_kill ${leg.uuid}`);
    if (result.status === CommandStatus.OK || outcome === undefined || outcome.status !== CommandStatus.OK) {
      outcome = result;
    }
  }
  return outcome ?? wrongState("nothing to hang up");
});

/**
 * Transfer. Blind, as fs-real-14n: `uuid_transfer <transferring leg> -bleg <destination> XML
 * <context>`: its partner runs the destination, and the transferring leg is hung up
 * (hangup_after_bridge). Attended, as fs-real-15o: `uuid_broadcast <transferring leg>
 * att_xfer::user/<destination> aleg`: the partner is soft-held while the transferring party
 * consults; their hanging up completes the transfer.
 */
const transfer = onCall<TransferCall>(async (deps, call, command) => {
  if (!DIALABLE.test(command.destination)) return refused("invalid destination");
  if (call.answeredUs === undefined) return wrongState("the call is not answered");
  const transferer = partyOrDefault(call, command.party, holderOf);
  if (isOutcome(transferer)) return transferer;
  if (otherParty(call, transferer) === undefined) return wrongState("nobody else is on the call");
  if (command.mode === TransferMode.ATTENDED) {
    return api(deps, `uuid_broadcast ${transferer.uuid} att_xfer::user/${command.destination} aleg`);
  }
  return api(deps, `uuid_transfer ${transferer.uuid} -bleg ${command.destination} XML ${deps.dialplan.context}`);
});

/**
 * Hold: `uuid_hold <leg>` (the held party's phone gets a sendonly re-INVITE, the other hears
 * hold music); FreeSWITCH's CHANNEL_HOLD is the HELD event, as in fs-real-18r.
 */
const hold = onCall<HoldCall>(async (deps, call, command) => {
  if (call.answeredUs === undefined) return wrongState("the call is not answered");
  const held = partyOrDefault(call, command.party, callerOf);
  if (isOutcome(held)) return held;
  if (call.heldLegs.has(held.uuid)) return wrongState("the party is on hold already");
  return api(deps, `uuid_hold ${held.uuid}`);
});

/** Resume: `uuid_hold off <leg>`; CHANNEL_UNHOLD is the RESUMED event. */
const resume = onCall<ResumeCall>(async (deps, call, command) => {
  const held = partyOrDefault(call, command.party, callerOf);
  if (isOutcome(held)) return held;
  if (!call.heldLegs.has(held.uuid)) return wrongState("the party is not on hold");
  return api(deps, `uuid_hold off ${held.uuid}`);
});

/**
 * Park, as fs-real-21u: the parked party goes to a free valet slot of the dialplan (`70X` runs
 * `valet_park valet_lot 70X`): `uuid_transfer <other leg> -bleg <slot> XML <context>` when it
 * talks to someone (that leg is hung up), else `uuid_transfer <leg> <slot> XML <context>`.
 * `parked_at` is the slot; dialing it picks the call up.
 */
const park = onCall<ParkCall>(async (deps, call, command) => {
  if (call.answeredUs === undefined) return wrongState("the call is not answered");
  if (call.parkedAt !== "") return wrongState(`the call is parked at ${call.parkedAt} already`);
  const parkee = partyOrDefault(call, command.party, callerOf);
  if (isOutcome(parkee)) return parkee;
  const taken = new Set(deps.tracker.liveCalls().map((other) => other.parkedAt));
  const slot = deps.dialplan.parkSlots.find((candidate) => !taken.has(candidate));
  if (slot === undefined) return refused("every park slot is taken");
  const other = otherParty(call, parkee);
  const context = deps.dialplan.context;
  const outcome = await api(
    deps,
    other === undefined
      ? `uuid_transfer ${parkee.uuid} ${slot} XML ${context}`
      : `uuid_transfer ${other.uuid} -bleg ${slot} XML ${context}`,
  );
  if (outcome.status !== CommandStatus.OK) return outcome;
  call.parkedAt = slot;
  return { ...outcome, detail: { case: "parkedAt", value: slot } };
});

/** eavesdrop's variables per mode: listen mutes the DTMF mode switches, whisper speaks to the spied leg. */
const SPY_VARIABLES: Record<SpyMode, string> = {
  [SpyMode.UNSPECIFIED]: "eavesdrop_enable_dtmf=false",
  [SpyMode.LISTEN]: "eavesdrop_enable_dtmf=false",
  [SpyMode.WHISPER]: "eavesdrop_enable_dtmf=false,eavesdrop_whisper_aleg=true",
  [SpyMode.BARGE]: "",
};

/** `{…}` of an originate that rings a supervisor or an intercepting phone, as fs-real-19s (a Spy's with its id first). */
function originateVariables(deps: EslCallControlDeps, extension: string, extra: string, callId = ""): string {
  const variables = [`origination_caller_id_number=${extension}`, `originate_timeout=${deps.ringSeconds}`];
  if (callId !== "") variables.unshift(`${CALL_ID_VARIABLE}=${callId}`);
  if (extra !== "") variables.push(extra);
  return `{${variables.join(",")}}`;
}

/**
 * Spy, as fs-real-19s: `bgapi originate {…}user/<supervisor> &eavesdrop(<spied leg>)` rings
 * the supervisor and, once they answer, listens to the leg (`eavesdrop_whisper_aleg=true`:
 * the spied party hears them); barge is `&three_way(<leg>)`. The gateway's spy_call_id rides on
 * the supervisor's leg as callmesh_call_id, as a click-to-call's id does: the tracker folds that leg
 * into the call as a monitor (no call of its own, no Cdr) and knows it as the session until it hangs up.
 */
const spy = onCall<SpyCall>(async (deps, call, command) => {
  if (!DIALABLE.test(command.supervisor)) return refused("invalid supervisor extension");
  const spyCallId = command.spyCallId;
  if (spyCallId !== "" && !SPY_CALL_ID.test(spyCallId)) return refused("invalid spy call id");
  if (call.answeredUs === undefined) return wrongState("the call is not answered");
  const spied = partyOrDefault(call, command.party, holderOf);
  if (isOutcome(spied)) return spied;
  if (spied.extension === command.supervisor) return wrongState("the supervisor is on the call");
  const application = command.mode === SpyMode.BARGE ? "three_way" : "eavesdrop";
  const variables = originateVariables(deps, command.supervisor, SPY_VARIABLES[command.mode] ?? "", spyCallId);
  // Registered before sending: the leg's CHANNEL_CREATE can come before the reply.
  if (spyCallId !== "") deps.tracker.expectSpy(spyCallId, command.supervisor);
  const outcome = await originate(
    deps,
    `originate ${variables}user/${command.supervisor} &${application}(${spied.uuid})`,
  );
  // Without an answer the originate may still run: the session stays expected until its time is up.
  if (outcome.status !== CommandStatus.OK && outcome.status !== CommandStatus.TIMEOUT)
    deps.tracker.cancelSpy(spyCallId);
  return outcome;
});

/**
 * Intercept: `bgapi originate {…}user/<extension> &intercept(<caller's leg>)`. Once the
 * intercepting phone answers, switch_ivr_intercept_session answers the leg it is given, hangs up
 * that leg's partner (the ringing phone) with PICKED_OFF and bridges the phone to it. So the leg
 * named is the caller's, as FreeSWITCH's own pickup (`intercept ${last_dial}`) names it: naming
 * the ringing leg would bridge the phone to it and drop the caller.
 */
const intercept = onCall<InterceptCall>(async (deps, call, command) => {
  if (!DIALABLE.test(command.extension)) return refused("invalid extension");
  if (call.answeredUs !== undefined) return wrongState("the call is answered already");
  if (ringingLegs(call).length === 0) return wrongState("the call rings no extension");
  const caller = callerOf(call);
  if (caller === undefined) return wrongState("the call has no caller leg");
  const variables = originateVariables(deps, command.extension, "");
  return originate(deps, `originate ${variables}user/${command.extension} &intercept(${caller.uuid})`);
});

/**
 * SendDtmf: `uuid_send_dtmf <other leg> <digits>`: the digits go out to the other party as
 * if the party had pressed them (into the party's own leg they would meet its bind_meta_app keys).
 */
const sendDtmf = onCall<SendDtmf>(async (deps, call, command) => {
  if (!DTMF.test(command.digits)) return refused("digits must be 0-9, *, #, A-D");
  if (call.answeredUs === undefined) return wrongState("the call is not answered");
  const sender = partyOrDefault(call, command.party, holderOf);
  if (isOutcome(sender)) return sender;
  const target = otherParty(call, sender);
  if (target === undefined) return wrongState("nobody else is on the call");
  return api(deps, `uuid_send_dtmf ${target.uuid} ${command.digits}`);
});

/**
 * AddToConference: `uuid_transfer <leg> -both conference:<room>@<profile> inline`: both
 * bridged legs enter the room together (moving one alone would hang up the other,
 * hangup_after_bridge); a lone leg goes without `-both`.
 */
const addToConference = onCall<AddToConference>(async (deps, call, command) => {
  if (!DIALABLE.test(command.room)) return refused("invalid room");
  const legs = liveLegs(call);
  const first = legs[0];
  if (first === undefined) return wrongState("the call has no live leg");
  const both = legs.length > 1 ? " -both" : "";
  return api(
    deps,
    `uuid_transfer ${first.uuid}${both} conference:${command.room}@${deps.dialplan.conferenceProfile} inline`,
  );
});

/** ListCalls: the tracker's calls in progress (no round trip), or the one asked for (a supervision session too). */
const listCalls: Handler<"listCalls"> = async (deps, command) =>
  answerCallList(
    deps.tracker,
    command.callId,
    (call) => buildEslActiveCall(call, deps.agentId, deps.plan),
    (callId) => {
      const session = deps.tracker.findSpySession(callId);
      return session && buildEslSupervisionActiveCall(session, deps.agentId);
    },
  );

/** ListPresence: the latest state of every extension the PBX reported. */
const listPresence: Handler<"listPresence"> = async (deps) => answerPresenceList(deps.presence());

const HANDLERS: ControlHandlers<EslCallControlDeps> = {
  hangup,
  transfer,
  hold,
  resume,
  park,
  spy,
  intercept,
  sendDtmf,
  addToConference,
  listCalls,
  listPresence,
};

/** Runs one call-control command on FreeSWITCH. */
export function runEslCallControl(deps: EslCallControlDeps, action: ControlAction): Promise<CommandOutcome> {
  return dispatchControl(HANDLERS, deps, action, (callId) => deps.tracker.findSpySession(callId) !== undefined);
}
