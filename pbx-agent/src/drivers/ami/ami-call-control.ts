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
import type { AmiActionFields } from "./ami-action.js";
import { buildActiveCall, buildSupervisionActiveCall } from "./ami-active-call.js";
import type { TrackedCall, TrackedChannel } from "./ami-call.js";
import { callerOf, channelOfParty, holderOf, liveParties, otherParty, ringingExtensions } from "./ami-call-parties.js";
import type { AmiCallTracker, SupervisionSession } from "./ami-call-tracker.js";
import { CALL_ID_VARIABLE } from "./ami-event-handlers.js";
import type { AmiMessage } from "./ami-message.js";
import type { NumberPlan } from "./ami-number-plan.js";
import { escapeVariableValue } from "./ami-originate.js";
import type { AmiPresenceTracker } from "./ami-presence.js";
import { outcomeOfResponse } from "./ami-refusal.js";

/** Where the control commands send channels in the dialplan (see docs/agent.md, "Call control on Asterisk"). */
export interface CallControlContexts {
  /** Transfers, intercepts and the supervisor's Local channel dial here; FreePBX `from-internal`. */
  dial: string;
  /** Hold: `hold,1` plays music on hold to the held party, `wait,1` keeps the other one; `callmesh-hold`. */
  hold: string;
  /** AddToConference: `<room>,1` enters the ConfBridge room; `from-internal`. */
  conference: string;
}

export interface CallControlDeps {
  readonly tracker: AmiCallTracker;
  readonly presence: AmiPresenceTracker;
  readonly plan: NumberPlan;
  readonly agentId: string;
  readonly contexts: CallControlContexts;
  /** How long a supervisor's phone rings for a Spy. */
  readonly ringTimeoutMs: number;
  readonly log: Logger;
  connected(): boolean;
  sendAction(action: string, fields: AmiActionFields): Promise<AmiMessage>;
  /** Starts waiting for an event now; resolves with it, or undefined after `timeoutMs`. */
  expectEvent(match: (event: AmiMessage) => boolean, timeoutMs: number): Promise<AmiMessage | undefined>;
}

/** How long Park waits for the ParkedCall event that names the space. */
const PARKED_CALL_WAIT_MS = 3000;
/** What an extension, a number or a room may contain: nothing that changes the dialplan or the channel. */
const DIALABLE = /^[0-9A-Za-z+*#_-]{1,64}$/;
const DTMF = /^[0-9*#A-Da-d]{1,64}$/;
/** A spy_call_id as the gateway mints them (a UUID); nothing that could end the Variable header. */
const SPY_CALL_ID = /^[A-Za-z0-9._:-]{1,128}$/;

type Handler<C extends ControlAction["case"]> = ControlHandler<CallControlDeps, C>;

/** A command on a call the agent tracks: CALL_NOT_FOUND when it tracks none by that id, without asking the PBX. */
function onCall<T extends { callId: string }>(
  run: (deps: CallControlDeps, call: TrackedCall, command: T) => Promise<CommandOutcome>,
): (deps: CallControlDeps, command: T) => Promise<CommandOutcome> {
  return async (deps, command) => {
    const call = deps.tracker.findCall(command.callId);
    if (call === undefined)
      return { status: CommandStatus.CALL_NOT_FOUND, message: `no call ${command.callId} in progress` };
    if (!deps.connected()) return { status: CommandStatus.PBX_UNREACHABLE, message: "not connected to the PBX" };
    return run(deps, call, command);
  };
}

const wrongState = (message: string): CommandOutcome => ({ status: CommandStatus.WRONG_CALL_STATE, message });
const refused = (message: string): CommandOutcome => ({ status: CommandStatus.PBX_REFUSED, message });

/** Sends one action; its response (or the failure to get one) becomes the outcome. */
async function send(deps: CallControlDeps, action: string, fields: AmiActionFields): Promise<CommandOutcome> {
  try {
    return outcomeOfResponse(action, await deps.sendAction(action, fields));
  } catch (error) {
    return commandOutcomeOfError(error);
  }
}

/** The party named, or `fallback` when none is; a party the call does not have is WRONG_CALL_STATE. */
function partyOrDefault(
  call: TrackedCall,
  party: string,
  fallback: (call: TrackedCall) => TrackedChannel | undefined,
): TrackedChannel | CommandOutcome {
  const channel = party === "" ? fallback(call) : channelOfParty(call, party);
  if (channel !== undefined) return channel;
  return wrongState(party === "" ? "the call has no such party now" : `party ${party} is not on the call`);
}

const isOutcome = (value: TrackedChannel | CommandOutcome): value is CommandOutcome => "status" in value;

/** `Hangup` (cause 16) of each channel in turn: OK when one went; one already gone meanwhile is not asked for. */
async function hangUpChannels(deps: CallControlDeps, targets: readonly TrackedChannel[]): Promise<CommandOutcome> {
  let outcome: CommandOutcome | undefined;
  for (const channel of targets) {
    // Hanging up one party of a bridge hangs up the other: what went meanwhile is not asked for again.
    if (outcome !== undefined && channel.hungUp) continue;
    const result = await send(deps, "Hangup", { Channel: channel.name, Cause: 16 });
    if (result.status === CommandStatus.OK || outcome === undefined || outcome.status !== CommandStatus.OK) {
      outcome = result;
    }
  }
  return outcome ?? wrongState("nothing to hang up");
}

/** Hangup: the party's channel, or every live channel of the call (a channel already gone is fine). */
const hangupCall = onCall<HangupCall>(async (deps, call, command) => {
  const targets = (command.party === "" ? liveParties(call) : [channelOfParty(call, command.party)]).filter(
    (channel) => channel !== undefined,
  );
  if (targets.length === 0) {
    return wrongState(
      command.party === "" ? "the call has no live channel" : `party ${command.party} is not on the call`,
    );
  }
  return hangUpChannels(deps, targets);
});

/**
 * Hangup of a supervision session: the supervisor's phone, then the Local half running ChanSpy
 * (ast-real-19s: that half stays in ChanSpy until the spied channel ends unless hung up itself).
 */
async function hangupSession(deps: CallControlDeps, session: SupervisionSession): Promise<CommandOutcome> {
  if (!deps.connected()) return { status: CommandStatus.PBX_UNREACHABLE, message: "not connected to the PBX" };
  const call = session.call;
  if (call === undefined) return wrongState("the supervisor's call is not on the PBX yet");
  const targets = [...liveParties(call), ...(call.first.hungUp ? [] : [call.first])];
  if (targets.length === 0) return wrongState("the supervision session has no live channel");
  return hangUpChannels(deps, targets);
}

/** Hangup of a call, or of a supervision session named by its spy_call_id. */
const hangup: Handler<"hangup"> = async (deps, command) => {
  const session = deps.tracker.findSpySession(command.callId);
  return session === undefined ? hangupCall(deps, command) : hangupSession(deps, session);
};

/**
 * Transfer. Blind: `BlindTransfer` of the transferring party's channel to `<destination>@<dial
 * context>`; when Asterisk refuses it (not permitted, a channel in no bridge), the other party is
 * `Redirect`ed there instead and the transferring party is left alone (Asterisk hangs it up).
 * Attended: `Atxfer`, Asterisk's own attended transfer: the other party holds while the
 * transferring one consults; the transferring party hanging up completes it.
 */
const transfer = onCall<TransferCall>(async (deps, call, command) => {
  if (!DIALABLE.test(command.destination)) return refused("invalid destination");
  if (call.answeredUs === undefined) return wrongState("the call is not answered");
  const transferer = partyOrDefault(call, command.party, holderOf);
  if (isOutcome(transferer)) return transferer;
  const context = deps.contexts.dial;
  if (command.mode === TransferMode.ATTENDED) {
    return send(deps, "Atxfer", { Channel: transferer.name, Exten: command.destination, Context: context });
  }
  const blind = await send(deps, "BlindTransfer", {
    Channel: transferer.name,
    Exten: command.destination,
    Context: context,
  });
  if (blind.status !== CommandStatus.PBX_REFUSED && blind.status !== CommandStatus.WRONG_CALL_STATE) return blind;
  const other = otherParty(call, transferer);
  if (other === undefined) return blind;
  deps.log.info({ callId: call.callId, reason: blind.message }, "BlindTransfer refused; redirecting the other party");
  const redirect = await send(deps, "Redirect", {
    Channel: other.name,
    Context: context,
    Exten: command.destination,
    Priority: 1,
  });
  return redirect.status === CommandStatus.OK
    ? { ...redirect, message: `${blind.message}; redirected instead` }
    : redirect;
});

/**
 * Hold: PJSIP has no AMI hold, so the held party is `Redirect`ed to `hold,1` of the hold
 * context (MusicOnHold) and the other party with it (ExtraChannel) to `wait,1`, so that
 * Asterisk does not hang the lone one up. The held party's MusicOnHoldStart is the HELD event.
 */
const hold = onCall<HoldCall>(async (deps, call, command) => {
  if (call.answeredUs === undefined) return wrongState("the call is not answered");
  const held = partyOrDefault(call, command.party, callerOf);
  if (isOutcome(held)) return held;
  if (held.held) return wrongState("the party is on hold already");
  const other = otherParty(call, held);
  if (other === undefined) return wrongState("nobody else is on the call");
  const context = deps.contexts.hold;
  held.holdByCommand = true;
  const outcome = await send(deps, "Redirect", {
    Channel: held.name,
    Context: context,
    Exten: "hold",
    Priority: 1,
    ExtraChannel: other.name,
    ExtraContext: context,
    ExtraExten: "wait",
    ExtraPriority: 1,
  });
  if (outcome.status !== CommandStatus.OK) held.holdByCommand = false;
  return outcome;
});

/**
 * Resume: the held party and the waiting one are joined again by the `Bridge` action;
 * MusicOnHoldStop (or the held channel entering the bridge) is the RESUMED event. Only a
 * hold made by the Hold command can be resumed so: a phone's own hold is the phone's.
 */
const resume = onCall<ResumeCall>(async (deps, call, command) => {
  const held = partyOrDefault(call, command.party, callerOf);
  if (isOutcome(held)) return held;
  if (!held.held || !held.holdByCommand) return wrongState("the party is not on hold by a Hold command");
  const other = otherParty(call, held);
  if (other === undefined) return wrongState("nobody else is on the call");
  return send(deps, "Bridge", { Channel1: held.name, Channel2: other.name, Tone: "no" });
});

/**
 * Park: `Park` of the party's channel with the other party as TimeoutChannel (who gets the
 * call back when nobody picks it up), as ast-real-21u; the ParkedCall event names the space.
 */
const park = onCall<ParkCall>(async (deps, call, command) => {
  if (call.answeredUs === undefined) return wrongState("the call is not answered");
  const parkee = partyOrDefault(call, command.party, callerOf);
  if (isOutcome(parkee)) return parkee;
  if (call.parkedAt !== "") return wrongState(`the call is parked at ${call.parkedAt} already`);
  const other = otherParty(call, parkee);
  const parked = deps.expectEvent(
    (event) => event.event === "ParkedCall" && event.get("ParkeeUniqueid") === parkee.uniqueid,
    PARKED_CALL_WAIT_MS,
  );
  const outcome = await send(deps, "Park", {
    Channel: parkee.name,
    ...(other === undefined ? {} : { TimeoutChannel: other.name }),
  });
  if (outcome.status !== CommandStatus.OK) return outcome;
  const space = (await parked)?.get("ParkingSpace") ?? call.parkedAt;
  return { ...outcome, detail: { case: "parkedAt", value: space } };
});

const SPY_OPTIONS: Record<SpyMode, string> = {
  [SpyMode.UNSPECIFIED]: "q",
  [SpyMode.LISTEN]: "q",
  [SpyMode.WHISPER]: "qw",
  [SpyMode.BARGE]: "qB",
};

/**
 * Spy: an async `Originate` that rings the supervisor through `Local/<supervisor>@<dial
 * context>` and, once they answer, runs ChanSpy on the spied party's device (as ast-real-19s:
 * `Data: PJSIP/1001,q`; `qw` whispers, `qB` barges). The supervisor's call carries the
 * gateway's spy_call_id as CALLMESH_CALL_ID, as a click-to-call carries its call id: the tracker
 * keeps it out of the CRM and knows it as that supervision session until it ends.
 */
const spy = onCall<SpyCall>(async (deps, call, command) => {
  if (!DIALABLE.test(command.supervisor)) return refused("invalid supervisor extension");
  const spyCallId = command.spyCallId;
  if (spyCallId !== "" && !SPY_CALL_ID.test(spyCallId)) return refused("invalid spy call id");
  if (call.answeredUs === undefined) return wrongState("the call is not answered");
  const spied = partyOrDefault(call, command.party, holderOf);
  if (isOutcome(spied)) return spied;
  if (spied.extension === command.supervisor) return wrongState("the supervisor is on the call");
  const device = `${spied.parsed.tech}/${spied.extension || spied.parsed.resource}`;
  // Registered before sending: the channels' VarSet can come before the response.
  if (spyCallId !== "") deps.tracker.expectSpy(spyCallId, command.supervisor);
  const outcome = await send(deps, "Originate", {
    Channel: `Local/${command.supervisor}@${deps.contexts.dial}`,
    Application: "ChanSpy",
    Data: `${device},${SPY_OPTIONS[command.mode] ?? "q"}`,
    Timeout: deps.ringTimeoutMs,
    Async: "true",
    ...(spyCallId === "" ? {} : { Variable: `${CALL_ID_VARIABLE}=${escapeVariableValue(spyCallId)}` }),
  });
  // Without an answer the Originate may still run: the session stays expected until its time is up.
  if (outcome.status !== CommandStatus.OK && outcome.status !== CommandStatus.TIMEOUT)
    deps.tracker.cancelSpy(spyCallId);
  return outcome;
});

/**
 * Intercept: the caller's channel of a ringing call is `Redirect`ed to `<extension>@<dial
 * context>`: Asterisk cancels the ringing phones and rings the intercepting one. Works with any
 * dialplan, ring groups and queues alike, with no pickup groups to configure.
 */
const intercept = onCall<InterceptCall>(async (deps, call, command) => {
  if (!DIALABLE.test(command.extension)) return refused("invalid extension");
  if (call.answeredUs !== undefined) return wrongState("the call is answered already");
  if (ringingExtensions(call).length === 0) return wrongState("the call rings no extension");
  const caller = callerOf(call);
  if (caller === undefined) return wrongState("the call has no caller channel");
  return send(deps, "Redirect", {
    Channel: caller.name,
    Context: deps.contexts.dial,
    Exten: command.extension,
    Priority: 1,
  });
});

/**
 * SendDtmf: `PlayDTMF`, one digit per action, on the other party's channel, i.e. sent out
 * to them as if the party had pressed the keys; played into the party's own channel as
 * received DTMF they would cross the bridge's feature detection (`*2`, `##` transfer codes).
 */
const sendDtmf = onCall<SendDtmf>(async (deps, call, command) => {
  if (!DTMF.test(command.digits)) return refused("digits must be 0-9, *, #, A-D");
  if (call.answeredUs === undefined) return wrongState("the call is not answered");
  const sender = partyOrDefault(call, command.party, holderOf);
  if (isOutcome(sender)) return sender;
  const target = otherParty(call, sender);
  if (target === undefined) return wrongState("nobody else is on the call");
  for (const digit of command.digits) {
    const outcome = await send(deps, "PlayDTMF", { Channel: target.name, Digit: digit });
    if (outcome.status !== CommandStatus.OK) return outcome;
  }
  return { status: CommandStatus.OK, message: `${command.digits.length} DTMF digits sent` };
});

/**
 * AddToConference: every live party is `Redirect`ed to `<room>,1` of the conference context
 * (the dialplan runs ConfBridge there), two at a time (Channel and ExtraChannel) so that
 * neither is hung up for being left alone in the bridge.
 */
const addToConference = onCall<AddToConference>(async (deps, call, command) => {
  if (!DIALABLE.test(command.room)) return refused("invalid room");
  const parties = liveParties(call);
  if (parties.length === 0) return wrongState("the call has no live channel");
  const context = deps.contexts.conference;
  let outcome: CommandOutcome = wrongState("nothing to move");
  for (let i = 0; i < parties.length; i += 2) {
    const [one, two] = [parties[i], parties[i + 1]];
    if (one === undefined) break;
    outcome = await send(deps, "Redirect", {
      Channel: one.name,
      Context: context,
      Exten: command.room,
      Priority: 1,
      ...(two === undefined
        ? {}
        : { ExtraChannel: two.name, ExtraContext: context, ExtraExten: command.room, ExtraPriority: 1 }),
    });
    if (outcome.status !== CommandStatus.OK) return outcome;
  }
  return outcome;
});

/** ListCalls: the tracker's calls in progress (no PBX round trip), or the one asked for (a supervision session too). */
const listCalls: Handler<"listCalls"> = async (deps, command) =>
  answerCallList(
    deps.tracker,
    command.callId,
    (call) => buildActiveCall(call, deps.agentId, deps.plan),
    (callId) => {
      const session = deps.tracker.findSpySession(callId);
      return session && buildSupervisionActiveCall(session, deps.agentId, deps.plan);
    },
  );

/** ListPresence: the latest state of every extension the PBX reported. */
const listPresence: Handler<"listPresence"> = async (deps) => answerPresenceList(deps.presence.list());

const HANDLERS: ControlHandlers<CallControlDeps> = {
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

/** Runs one call-control command on Asterisk. */
export function runCallControl(deps: CallControlDeps, action: ControlAction): Promise<CommandOutcome> {
  return dispatchControl(HANDLERS, deps, action, (callId) => deps.tracker.findSpySession(callId) !== undefined);
}
