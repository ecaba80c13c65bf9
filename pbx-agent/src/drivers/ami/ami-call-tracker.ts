import { CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import type { Logger } from "@callmesh/platform/logging.js";
import type { CallOutput } from "../../ports/pbx-driver.js";
import {
  type ChannelFacts,
  describeChannel,
  type OriginateExpectation,
  TrackedCall,
  type TrackedChannel,
} from "./ami-call.js";
import { deriveCallId } from "./ami-call-id.js";
import { buildCallEvent, buildCdr } from "./ami-call-output.js";
import { answerSeenUp, groupUnknown, joinSeenChannel, recoverCall } from "./ami-call-recovery.js";
import { restoreCall } from "./ami-call-snapshot.js";
import { AMI_EVENT_HANDLERS, AMI_IGNORED_EVENTS } from "./ami-event-handlers.js";
import type { AmiMessage } from "./ami-message.js";
import { createNumberPlan, type NumberPlan, type NumberPlanOptions } from "./ami-number-plan.js";
import { parseAmiTimestamp } from "./ami-time.js";
import type { CallTrackerContext, IgnoreReason } from "./ami-tracker-context.js";

export type { OriginateExpectation, TrackedCall, TrackedChannel } from "./ami-call.js";

export interface AmiCallTrackerOptions extends NumberPlanOptions {
  /** Put on every CallEvent and Cdr; also seeds the ids of calls no click-to-call named. */
  agentId: string;
  /** Receives every CallEvent and Cdr, in order. */
  onOutput(output: CallOutput): void;
  /**
   * How long after a call's last Hangup its Cdr waits for Asterisk's own Cdr events
   * (they can follow the Hangup), in PBX time or wall-clock time, whichever passes first.
   * Default 2 s.
   */
  cdrGraceMs?: number;
  /** How long a click-to-call the driver announced waits for its channel; default 60 s. */
  originateTtlMs?: number;
  /** Wall clock; injectable for tests. */
  now?: () => number;
  /**
   * The time of an event without `Timestamp` (timestampevents=no, Asterisk 11): the wall
   * clock (live) or the last timestamp seen, 0 before any (replay, deterministic).
   * Default "wall-clock".
   */
  untimedEvents?: "wall-clock" | "last-event";
  /** Where a call's state goes when what was emitted of it changes, so a restarted agent can restore() it. */
  persistence?: AmiCallPersistence;
  logger?: Logger;
}

/** Keeps calls' states across an agent restart (the call state file). */
export interface AmiCallPersistence {
  /** Something of the call went out (or it was rebuilt): its state now is what a restart must start from. */
  save(call: TrackedCall): void;
  /** Its Cdr went out (or it turned out not to be a call): nothing to keep. */
  drop(call: TrackedCall): void;
}

/** A Spy command's supervisor call, which the gateway addresses by its spy_call_id while it lasts. */
export interface SupervisionSession {
  readonly spyCallId: string;
  /** The supervisor's extension. */
  readonly supervisor: string;
  /** The supervisor's call once its channels reported the id; undefined while the Originate is queued. */
  readonly call: TrackedCall | undefined;
}

export interface RestoreResult {
  /** Calls in progress at the restart, tracked on; reconcile() at login ends those the PBX no longer has. */
  live: number;
  /** Calls that had ended and waited for their Cdr: it goes out at the next tick. */
  ending: number;
  /** States that are not a call (another layout, a bad value): by the key they came with. */
  unusable: { key: string; reason: string }[];
}

export interface AmiCallTrackerStats {
  /** Events some handler looked at. */
  handled: number;
  /** Events no handler is registered for (Newexten, CEL…). */
  unhandled: number;
  /** Of those, events whose name Asterisk is not known to send (garbage, or a newer version). */
  unknownEvents: number;
  /** Handled events that changed nothing, by reason. */
  ignored: Record<IgnoreReason, number>;
  callsStarted: number;
  callsEnded: number;
  /** Channels that started a call of their own and turned out to belong to another. */
  callsMerged: number;
  /** Supervisor calls (ChanSpy) that were dropped instead of reported. */
  supervisionCalls: number;
}

/**
 * Turns AMI events into CallEvents and Cdrs. Pure: no I/O, time from the events
 * themselves (or the injected clock). Feed it every event in the order received.
 */
export interface AmiCallTracker {
  handle(message: AmiMessage): void;
  /** Registers a click-to-call before its Originate is sent, so its channels get its id and variables. */
  expectOriginate(expectation: OriginateExpectation): void;
  /** The Originate was refused: nothing will come. */
  cancelOriginate(callId: string): void;
  /**
   * Registers a Spy's supervisor call before its Originate is sent: the channels that report
   * `spyCallId` as CALLMESH_CALL_ID are that supervision session, held out of the CRM as any ChanSpy.
   */
  expectSpy(spyCallId: string, supervisor: string): void;
  /** The Spy's Originate was refused: no session. */
  cancelSpy(spyCallId: string): void;
  /** The supervision session of this spy_call_id while it lasts (queued, ringing or listening). */
  findSpySession(spyCallId: string): SupervisionSession | undefined;
  /** Emits Cdrs whose grace period passed and forgets stale click-to-call expectations. */
  tick(): void;
  /** Emits the Cdr of every ended call now (end of a replay, shutdown). */
  flush(): void;
  /** The call in progress with this id (ended calls, and supervisors' ChanSpy calls, are not). */
  findCall(callId: string): TrackedCall | undefined;
  /** Every call in progress, oldest first, as findCall() sees them. */
  liveCalls(): TrackedCall[];
  /**
   * Merges what the PBX has now (the CoreShowChannel items of a CoreShowChannels made at a
   * (re)connect, at `atUs`) with what the tracker knows: a channel it tracks that the PBX no longer
   * has hung up while the agent was away (a call left with none ends, HANGUP at `atUs`); channels it
   * never saw are calls in progress rebuilt silently (no second start), named by `callIds` (the
   * CALLMESH_CALL_ID of a click-to-call, by Linkedid) or their derived id.
   */
  reconcile(items: readonly AmiMessage[], atUs: number, callIds?: ReadonlyMap<string, string>): ReconcileResult;
  /**
   * Takes back the calls the agent tracked before a restart (their saved states, by key), before
   * the first login: they continue their sequence, are not announced again and keep their answer
   * time; the first reconcile() merges them with the PBX's channels.
   */
  restore(states: ReadonlyMap<string, unknown>): RestoreResult;
  /** Calls with channels still up. */
  readonly activeCalls: number;
  readonly stats: Readonly<AmiCallTrackerStats>;
}

export interface ReconcileResult {
  /** Calls that ended while the agent was away: their HANGUP went out now. */
  ended: number;
  /** Calls in progress the tracker did not know, rebuilt. */
  recovered: number;
}

export function createAmiCallTracker(options: AmiCallTrackerOptions): AmiCallTracker {
  return new CallTracker(options);
}

class CallTracker implements AmiCallTracker, CallTrackerContext {
  readonly stats: AmiCallTrackerStats = {
    handled: 0,
    unhandled: 0,
    unknownEvents: 0,
    ignored: { malformed: 0, unknown_call: 0, unknown_channel: 0, duplicate: 0, late: 0 },
    callsStarted: 0,
    callsEnded: 0,
    callsMerged: 0,
    supervisionCalls: 0,
  };
  readonly plan: NumberPlan;
  readonly #options: AmiCallTrackerOptions;
  readonly #now: () => number;
  readonly #cdrGraceUs: number;
  readonly #originateTtlMs: number;
  readonly #untimedFromLastEvent: boolean;
  /** The last `Timestamp` seen, for events without one in replays. */
  #lastEventUs = 0;
  /** Calls by Linkedid, until their Cdr went out. */
  readonly #calls = new Map<string, TrackedCall>();
  /** Calls by the Uniqueid of each of their channels (Cdr events name only that). */
  readonly #callsByChannel = new Map<string, TrackedCall>();
  /** Ended calls waiting for their Cdr, in the order they ended. */
  #ending: TrackedCall[] = [];
  /** Click-to-calls announced by the driver and not yet seen, oldest first. */
  readonly #expected = new Map<string, { expectation: OriginateExpectation; expiresMs: number }>();
  /** Calls whose state the persistence holds. */
  readonly #persisted = new Set<TrackedCall>();
  /** Supervision sessions by spy_call_id, from the Spy command until their call ends. */
  readonly #spies = new Map<string, { supervisor: string; expiresMs: number; call: TrackedCall | undefined }>();
  #active = 0;

  constructor(options: AmiCallTrackerOptions) {
    this.#options = options;
    this.plan = createNumberPlan(options);
    this.#now = options.now ?? Date.now;
    this.#cdrGraceUs = (options.cdrGraceMs ?? 2000) * 1000;
    this.#originateTtlMs = options.originateTtlMs ?? 60_000;
    this.#untimedFromLastEvent = options.untimedEvents === "last-event";
  }

  get activeCalls(): number {
    return this.#active;
  }

  handle(message: AmiMessage): void {
    const name = message.event;
    const handler = name === undefined ? undefined : AMI_EVENT_HANDLERS.get(name);
    if (handler !== undefined) {
      this.stats.handled++;
      handler(this, message);
    } else if (name !== undefined) {
      this.stats.unhandled++;
      if (!AMI_IGNORED_EVENTS.has(name)) this.stats.unknownEvents++;
    }
    if (this.#ending.length > 0) this.#releaseCdrs(this.timeOf(message), Number.NEGATIVE_INFINITY);
  }

  expectOriginate(expectation: OriginateExpectation): void {
    this.#expected.set(expectation.callId, { expectation, expiresMs: this.#now() + this.#originateTtlMs });
  }

  cancelOriginate(callId: string): void {
    this.#expected.delete(callId);
  }

  expectSpy(spyCallId: string, supervisor: string): void {
    if (this.#spies.get(spyCallId)?.call !== undefined) return;
    this.#spies.set(spyCallId, { supervisor, expiresMs: this.#now() + this.#originateTtlMs, call: undefined });
  }

  cancelSpy(spyCallId: string): void {
    if (this.#spies.get(spyCallId)?.call === undefined) this.#spies.delete(spyCallId);
  }

  findSpySession(spyCallId: string): SupervisionSession | undefined {
    const spy = this.#spies.get(spyCallId);
    if (spy === undefined) return undefined;
    return { spyCallId, supervisor: spy.supervisor, call: spy.call };
  }

  findCall(callId: string): TrackedCall | undefined {
    if (callId === "") return undefined;
    for (const call of this.#calls.values()) {
      if (call.callId === callId && isLive(call)) return call;
    }
    return undefined;
  }

  liveCalls(): TrackedCall[] {
    return [...this.#calls.values()].filter(isLive);
  }

  reconcile(
    items: readonly AmiMessage[],
    atUs: number,
    callIds: ReadonlyMap<string, string> = new Map(),
  ): ReconcileResult {
    const present = new Map(items.map((item) => [item.get("Uniqueid") ?? "", item]));
    const changed = new Set<TrackedCall>();
    let ended = 0;
    for (const call of [...this.#calls.values()]) {
      if (call.ended) continue;
      for (const channel of call.channels.values()) {
        if (channel.hungUp || present.has(channel.uniqueid)) continue;
        channel.hungUp = true;
        channel.endedUs = atUs;
        call.liveChannels--;
        changed.add(call);
      }
      if (call.liveChannels <= 0) {
        this.endCall(call, atUs);
        ended++;
      } else if (answerSeenUp(this, call, present, atUs)) {
        changed.add(call);
      }
    }
    let recovered = 0;
    for (const group of groupUnknown(items, (uniqueid) => this.#callsByChannel.has(uniqueid))) {
      const known = this.#calls.get(group.linkedid);
      if (known !== undefined && !known.ended) {
        for (const item of group.items) joinSeenChannel(this, known, item, atUs);
        changed.add(known);
        continue;
      }
      if (known !== undefined) continue;
      const callId = callIds.get(group.linkedid);
      const call = recoverCall(this, group, atUs, callId);
      if (call?.supervision && callId !== undefined) this.#adoptSpySession(call);
      else if (call !== undefined) changed.add(call);
      recovered++;
    }
    // A rebuilt call is kept too: a second restart continues its sequence rather than starting over.
    for (const call of changed) if (isLive(call)) this.#save(call);
    if (recovered > 0 || ended > 0) {
      this.#options.logger?.info({ ended, recovered }, "calls reconciled with the PBX's channels");
    }
    return { ended, recovered };
  }

  restore(states: ReadonlyMap<string, unknown>): RestoreResult {
    const result: RestoreResult = { live: 0, ending: 0, unusable: [] };
    for (const [key, state] of states) {
      let call: TrackedCall;
      try {
        call = restoreCall(state, this.plan);
      } catch (error) {
        result.unusable.push({ key, reason: (error as Error).message });
        continue;
      }
      if (this.#calls.has(call.linkedid)) {
        result.unusable.push({ key, reason: `a second state for PBX call ${call.linkedid}` });
        continue;
      }
      this.#calls.set(call.linkedid, call);
      for (const uniqueid of call.channels.keys()) this.#callsByChannel.set(uniqueid, call);
      this.#persisted.add(call);
      if (call.ended) {
        // Its Cdr was due: it goes out at once (Asterisk's Cdr events of the gap are gone).
        call.cdrDueEventUs = 0;
        call.cdrDueWallUs = 0;
        this.#ending.push(call);
        result.ending++;
      } else {
        this.#active++;
        result.live++;
      }
    }
    if (result.live > 0 || result.ending > 0) {
      this.#options.logger?.info({ live: result.live, ending: result.ending }, "calls restored from their saved state");
    }
    return result;
  }

  tick(): void {
    const now = this.#now();
    this.#releaseCdrs(Number.NEGATIVE_INFINITY, now * 1000);
    for (const [callId, { expiresMs }] of this.#expected) {
      if (expiresMs <= now) this.#expected.delete(callId);
    }
    // A Spy whose channels never came (the Originate failed before creating any).
    for (const [spyCallId, spy] of this.#spies) {
      if (spy.call === undefined && spy.expiresMs <= now) this.#spies.delete(spyCallId);
    }
  }

  flush(): void {
    this.#releaseCdrs(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  }

  // CallTrackerContext: what the event handlers use.

  timeOf(message: AmiMessage): number {
    const stamped = parseAmiTimestamp(message.get("Timestamp"));
    if (stamped !== undefined) {
      this.#lastEventUs = stamped;
      return stamped;
    }
    return this.#untimedFromLastEvent ? this.#lastEventUs : this.#nowUs();
  }

  callOf(linkedid: string | undefined): TrackedCall | undefined {
    const call = linkedid === undefined ? undefined : this.#calls.get(linkedid);
    if (call === undefined) this.stats.ignored.unknown_call++;
    return call;
  }

  callOfEvent(message: AmiMessage): TrackedCall | undefined {
    const linkedid = message.get("Linkedid");
    const call =
      (linkedid === undefined ? undefined : this.#calls.get(linkedid)) ??
      this.#callsByChannel.get(message.get("Uniqueid") ?? "");
    if (call === undefined) this.stats.ignored.unknown_call++;
    return call;
  }

  callOfChannel(uniqueid: string | undefined): TrackedCall | undefined {
    return uniqueid === undefined ? undefined : this.#callsByChannel.get(uniqueid);
  }

  describeChannel(uniqueid: string, name: string, facts: ChannelFacts): TrackedChannel {
    return describeChannel(uniqueid, name, facts, this.plan);
  }

  startCall(linkedid: string, first: TrackedChannel, facts: ChannelFacts): TrackedCall {
    const call = new TrackedCall(linkedid, deriveCallId(this.#options.agentId, linkedid), first, facts, this.plan);
    if (call.clickToCall) {
      this.#bindByChannel(call);
      // An Originate nobody announced may be a supervisor's ChanSpy: hold its output until it shows otherwise.
      if (call.expectation === undefined) call.heldOutputs = [];
    }
    this.#calls.set(linkedid, call);
    this.#callsByChannel.set(first.uniqueid, call);
    this.#active++;
    this.stats.callsStarted++;
    return call;
  }

  addChannel(call: TrackedCall, channel: TrackedChannel): void {
    call.addChannel(channel);
    this.#callsByChannel.set(channel.uniqueid, call);
  }

  moveChannel(uniqueid: string, call: TrackedCall, atUs: number): TrackedChannel | undefined {
    const from = this.#callsByChannel.get(uniqueid);
    const channel = from?.channels.get(uniqueid);
    if (from === undefined || channel === undefined) return undefined;
    if (from === call) return channel;
    from.removeChannel(channel);
    this.addChannel(call, channel);
    if (from.channels.size === 0 && from.silent && !from.ended) {
      this.#forget(from);
      this.#drop(from);
      this.stats.callsMerged++;
    } else if (from.liveChannels === 0 && !from.ended) {
      this.endCall(from, atUs);
    }
    return channel;
  }

  bindCallId(call: TrackedCall, callId: string): void {
    if (callId === "" || callId === call.callId) return;
    const spy = this.#spies.get(callId);
    if (spy !== undefined && spy.call === undefined) {
      // The driver's Spy: a supervisor's call, held out of the CRM, addressed by this id while it lasts.
      if (call.expectation !== undefined) {
        // Taken by channel name for a click-to-call from the same extension: that one is still to come.
        this.expectOriginate(call.expectation);
        call.expectation = undefined;
      }
      spy.call = call;
      spy.expiresMs = Number.POSITIVE_INFINITY;
      call.callId = callId;
      call.supervision = true;
      call.spySession = true;
      call.heldOutputs ??= [];
      return;
    }
    if (call.announced) {
      this.#options.logger?.warn(
        { callId: call.callId, pbxCallId: call.linkedid, lateCallId: callId },
        "call id arrived after the call's first event; keeping the first",
      );
      return;
    }
    // A tentative match by channel name gives way to the id the PBX reports.
    if (call.expectation !== undefined && call.expectation.callId !== callId) {
      this.expectOriginate(call.expectation);
      call.expectation = undefined;
    }
    const expected = this.#expected.get(callId);
    if (expected !== undefined) {
      this.#expected.delete(callId);
      call.expectation = expected.expectation;
    }
    call.callId = callId;
    // The driver's own click-to-call (its id is set on the channel) is a customer call.
    this.releaseHeld(call);
  }

  clickToCallOf(localChannel: string): TrackedCall | undefined {
    let found: TrackedCall | undefined;
    for (const call of this.#calls.values()) {
      if (call.clickToCall && call.first.name.startsWith(`${localChannel}-`)) found = call;
    }
    return found;
  }

  announce(call: TrackedCall): void {
    if (call.announced) return;
    call.announced = true;
    if (call.clickToCall)
      this.#emitEvent(call, CallEventKind.ORIGINATE, call.startedUs, call.agentExtension, call.first.uniqueid);
  }

  releaseHeld(call: TrackedCall): void {
    const held = call.heldOutputs;
    if (held === undefined || call.spySession) return;
    call.heldOutputs = undefined;
    for (const output of held) this.#options.onOutput(output);
    if (held.length > 0) this.#save(call);
  }

  emitRinging(call: TrackedCall, atUs: number, extension: string, legId: string): void {
    this.#emitEvent(call, CallEventKind.RINGING, atUs, extension, legId);
  }

  emitAnswered(call: TrackedCall, atUs: number, extension: string, legId: string): void {
    this.#emitEvent(call, CallEventKind.ANSWERED, atUs, extension, legId);
  }

  emitHeld(call: TrackedCall, atUs: number, extension: string, legId: string): void {
    this.#emitEvent(call, CallEventKind.HELD, atUs, extension, legId);
  }

  emitResumed(call: TrackedCall, atUs: number, extension: string, legId: string): void {
    this.#emitEvent(call, CallEventKind.RESUMED, atUs, extension, legId);
  }

  emitTransferred(call: TrackedCall, atUs: number, extension: string, legId: string): void {
    this.#emitEvent(call, CallEventKind.TRANSFERRED, atUs, extension, legId);
  }

  endCall(call: TrackedCall, atUs: number): void {
    call.endedUs = atUs;
    this.#active--;
    this.stats.callsEnded++;
    // A supervisor's ChanSpy, or an Asterisk 11 dialed channel no Dial claimed: not a call of its own.
    if (call.silent && (call.supervision || call.provisional)) {
      if (call.supervision) this.stats.supervisionCalls++;
      else this.stats.callsMerged++;
      if (call.spySession && this.#spies.get(call.callId)?.call === call) this.#spies.delete(call.callId);
      call.heldOutputs = undefined;
      this.#forget(call);
      this.#drop(call);
      return;
    }
    this.releaseHeld(call);
    call.cdrDueEventUs = atUs + this.#cdrGraceUs;
    call.cdrDueWallUs = this.#nowUs() + this.#cdrGraceUs;
    // The last one on the call: the transfer target, else who answered, else whose call it was.
    const extension = call.transferredTo || call.answeredBy || call.agentExtension || call.first.extension;
    this.#emitEvent(call, CallEventKind.HANGUP, atUs, extension, call.first.uniqueid);
    this.#ending.push(call);
  }

  ignore(reason: IgnoreReason): void {
    this.stats.ignored[reason]++;
  }

  #nowUs(): number {
    return Math.round(this.#now() * 1000);
  }

  /** Every emission goes through here: a click-to-call is announced before anything else. */
  #emitEvent(call: TrackedCall, kind: CallEventKind, atUs: number, extension: string, legId: string): void {
    if (!call.announced) this.announce(call);
    const output: CallOutput = {
      kind: "event",
      event: buildCallEvent(call, kind, atUs, extension, legId, this.#options.agentId, this.plan),
    };
    if (call.heldOutputs !== undefined) {
      call.heldOutputs.push(output);
      return;
    }
    this.#options.onOutput(output);
    this.#save(call);
  }

  #emitCdr(call: TrackedCall): void {
    this.#forget(call);
    this.#options.onOutput({ kind: "cdr", cdr: buildCdr(call, this.#options.agentId, this.plan) });
    this.#drop(call); // after the output: the state goes only once the Cdr is on its way
  }

  #save(call: TrackedCall): void {
    const persistence = this.#options.persistence;
    if (persistence === undefined) return;
    this.#persisted.add(call);
    persistence.save(call);
  }

  #drop(call: TrackedCall): void {
    if (this.#persisted.delete(call)) this.#options.persistence?.drop(call);
  }

  #forget(call: TrackedCall): void {
    if (this.#calls.get(call.linkedid) === call) this.#calls.delete(call.linkedid);
    for (const uniqueid of call.channels.keys()) {
      if (this.#callsByChannel.get(uniqueid) === call) this.#callsByChannel.delete(uniqueid);
    }
    if (!call.ended) this.#active--;
  }

  /** Emits, in order, the Cdrs whose wait is over by either clock. */
  #releaseCdrs(eventUs: number, wallUs: number): void {
    let released = 0;
    for (const call of this.#ending) {
      if (call.cdrDueEventUs > eventUs && call.cdrDueWallUs > wallUs) break;
      released++;
      this.#emitCdr(call);
    }
    if (released > 0) this.#ending = this.#ending.slice(released);
  }

  /**
   * A supervisor's call found on the PBX that carries a CALLMESH_CALL_ID (a restarted agent): the
   * driver's Spy made it, so it is that spy_call_id's session again.
   */
  #adoptSpySession(call: TrackedCall): void {
    call.spySession = true;
    call.heldOutputs ??= [];
    this.#spies.set(call.callId, { supervisor: call.fromNumber, expiresMs: Number.POSITIVE_INFINITY, call });
  }

  /** A click-to-call's Local channel appeared: match it to the oldest Originate for that extension and context. */
  #bindByChannel(call: TrackedCall): void {
    const local = call.first.parsed.local;
    if (local === undefined) return;
    for (const [callId, { expectation }] of this.#expected) {
      if (expectation.extension === local.exten && expectation.context === local.context) {
        this.#expected.delete(callId);
        call.expectation = expectation;
        call.callId = callId;
        return;
      }
    }
  }
}

/** In progress and a customer call: not ended, not a ChanSpy being held back, not an unclaimed Asterisk 11 channel. */
function isLive(call: TrackedCall): boolean {
  return !call.ended && call.heldOutputs === undefined && !call.supervision && !call.provisional;
}
