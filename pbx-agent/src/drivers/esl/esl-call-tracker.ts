import { CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import type { Logger } from "@callmesh/platform/logging.js";
import type { CallOutput } from "../../ports/pbx-driver.js";
import { type OriginateExpectation, TrackedCall } from "./esl-call.js";
import { deriveEslCallId } from "./esl-call-id.js";
import { buildCallEvent, buildCdr } from "./esl-call-output.js";
import {
  adoptLiveCalls,
  adoptSupervisors,
  answerKnownCalls,
  endVanishedCalls,
  type LiveChannel,
  type RecoveryOutcome,
} from "./esl-call-recovery.js";
import { restoreEslCall } from "./esl-call-snapshot.js";
import type { EslEvent } from "./esl-event.js";
import { ESL_EVENT_HANDLERS, type EslTrackerContext, type IgnoreReason } from "./esl-event-handlers.js";
import type { LegRole, TrackedLeg } from "./esl-leg.js";
import { createEslNumberPlan, type EslNumberPlan, type EslNumberPlanOptions } from "./esl-number-plan.js";

export type { OriginateExpectation, TrackedCall } from "./esl-call.js";

export interface EslCallTrackerOptions extends EslNumberPlanOptions {
  /** Put on every CallEvent and Cdr; also seeds the ids of calls no click-to-call named. */
  agentId: string;
  onOutput(output: CallOutput): void;
  /** How long a click-to-call the driver announced waits for its channel; default 60 s. */
  originateTtlMs?: number;
  /** How long a call whose legs all hung up waits for their CHANNEL_HANGUP_COMPLETE; default 5 s. */
  hangupGraceMs?: number;
  /**
   * Where each call in progress is kept across an agent restart: `save` after every event that
   * changed an announced call, `drop` once its Cdr went out (see esl-call-snapshot.ts).
   */
  persistence?: { save(call: TrackedCall): void; drop(call: TrackedCall): void };
  /** Wall clock, for events without a timestamp and expectation expiry; injectable for tests. */
  now?: () => number;
  logger?: Logger;
}

/** A Spy command's supervisor, whom the gateway addresses by its spy_call_id while the session lasts. */
export interface EslSupervisionSession {
  readonly spyCallId: string;
  /** The supervisor's extension. */
  readonly supervisor: string;
  /** The supervisor's leg once FreeSWITCH created it; undefined while the originate is queued. */
  readonly leg: TrackedLeg | undefined;
}

export interface EslCallTrackerStats {
  handled: number;
  /** Handled events that changed nothing, by reason. */
  ignored: Record<IgnoreReason, number>;
  callsStarted: number;
  callsEnded: number;
  /** Originates folded into another call (a supervisor's eavesdrop). */
  callsFolded: number;
}

/**
 * Turns FreeSWITCH events into CallEvents and Cdrs: one Cdr per conversation, legs
 * nested. Pure: no I/O, time from the events. Feed it every event in the order received.
 */
export interface EslCallTracker {
  handle(event: EslEvent): void;
  /** Whether `handle` does anything with events of this name (the others need not be parsed). */
  handles(eventName: string): boolean;
  /** Registers a click-to-call before its originate is sent, so its legs get its id and variables. */
  expectOriginate(expectation: OriginateExpectation): void;
  /** The originate was refused: nothing will come. */
  cancelOriginate(callId: string): void;
  /**
   * Registers a Spy before its originate is sent: the leg carrying `spyCallId` as callmesh_call_id
   * is that supervision session's, folded into the spied call as a monitor (no call of its own).
   */
  expectSpy(spyCallId: string, supervisor: string): void;
  /** The Spy's originate was refused: no session. */
  cancelSpy(spyCallId: string): void;
  /** The supervision session of this spy_call_id while it lasts: until its leg hangs up. */
  findSpySession(spyCallId: string): EslSupervisionSession | undefined;
  /**
   * Forgets stale click-to-call expectations, and ends calls whose legs all hung up
   * more than `hangupGraceMs` ago without a CHANNEL_HANGUP_COMPLETE (a `myevents` or
   * filtered session).
   */
  tick(): void;
  /** End of a session: ends calls whose legs all hung up, and releases originates never classified. */
  flush(): void;
  /** The live call with this id (the API's or the derived one), if the tracker knows it. */
  findCall(callId: string): TrackedCall | undefined;
  /** The calls in progress, oldest first. */
  liveCalls(): TrackedCall[];
  /** What counts as an extension and a trunk. */
  readonly plan: EslNumberPlan;
  /**
   * The calls a previous run kept (persistence), by first leg: tracked again as they were. The
   * first login's recovery then ends those FreeSWITCH no longer has, and carries on the others.
   */
  restore(states: ReadonlyMap<string, unknown>): { restored: number; unusable: { key: string; reason: string }[] };
  /**
   * A session logged in: events are queued (not handled) until recover() says what FreeSWITCH
   * has, so that none of them adopts a leg recovery is about to rebuild.
   */
  beginRecovery(): void;
  /**
   * What FreeSWITCH has now (`show channels as json`): calls the tracker does not know are
   * rebuilt (silently when `silent`, the agent having just started), the queued events are
   * handled, calls known before the login that answered meanwhile are answered now, and those
   * whose legs FreeSWITCH no longer has end now.
   */
  recover(channels: readonly LiveChannel[] | undefined, silent: boolean): RecoveryOutcome;
  readonly activeCalls: number;
  readonly stats: Readonly<EslCallTrackerStats>;
}

/** Events held while a login's recovery asks FreeSWITCH what it has; beyond, they are handled at once. */
const MAX_QUEUED_DURING_RECOVERY = 20_000;

export function createEslCallTracker(options: EslCallTrackerOptions): EslCallTracker {
  return new CallTracker(options);
}

class CallTracker implements EslCallTracker, EslTrackerContext {
  readonly stats: EslCallTrackerStats = {
    handled: 0,
    ignored: { malformed: 0, unknown_call: 0, duplicate: 0, late: 0 },
    callsStarted: 0,
    callsEnded: 0,
    callsFolded: 0,
  };
  readonly plan: EslNumberPlan;
  readonly #options: EslCallTrackerOptions;
  readonly #now: () => number;
  readonly #ttlMs: number;
  /** Calls by the Unique-ID of each of their legs, until their Cdr went out. */
  readonly #callsByLeg = new Map<string, TrackedCall>();
  /** Live calls, oldest first. */
  readonly #calls = new Set<TrackedCall>();
  readonly #expected = new Map<string, { expectation: OriginateExpectation; expiresMs: number }>();
  /** Supervision sessions by spy_call_id, from the Spy command until the supervisor's leg hangs up. */
  readonly #spies = new Map<string, { supervisor: string; expiresMs: number; legUuid: string | undefined }>();
  /** While a login's recovery runs: the events that came meanwhile, and the calls known before it. */
  #recovery: { queued: EslEvent[]; known: TrackedCall[] } | undefined;

  constructor(options: EslCallTrackerOptions) {
    this.#options = options;
    this.plan = createEslNumberPlan(options);
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.originateTtlMs ?? 60_000;
  }

  get activeCalls(): number {
    return this.#calls.size;
  }

  findCall(callId: string): TrackedCall | undefined {
    for (const call of this.#calls) if (call.callId === callId && !call.pending) return call;
    return undefined;
  }

  liveCalls(): TrackedCall[] {
    return [...this.#calls].filter((call) => !call.pending);
  }

  handles(eventName: string): boolean {
    return ESL_EVENT_HANDLERS.has(eventName);
  }

  restore(states: ReadonlyMap<string, unknown>): { restored: number; unusable: { key: string; reason: string }[] } {
    const unusable: { key: string; reason: string }[] = [];
    let restored = 0;
    for (const [key, state] of states) {
      const call = restoreEslCall(state);
      if (!(call instanceof TrackedCall)) {
        unusable.push({ key, reason: call.reason });
        continue;
      }
      if (this.#callsByLeg.has(call.first.uuid)) continue;
      this.#calls.add(call);
      for (const uuid of call.legs.keys()) this.#callsByLeg.set(uuid, call);
      restored++;
    }
    return { restored, unusable };
  }

  beginRecovery(): void {
    this.#recovery ??= { queued: [], known: [...this.#calls] };
  }

  recover(channels: readonly LiveChannel[] | undefined, silent: boolean): RecoveryOutcome {
    const recovery = this.#recovery;
    this.#recovery = undefined;
    // A channel created since the login has all of its events queued: the queue tells its story.
    const created = new Set(
      recovery?.queued.flatMap((event) => (event.name === "CHANNEL_CREATE" ? [event.get("Unique-ID") ?? ""] : [])),
    );
    const untold = channels?.filter((channel) => !created.has(channel.uuid));
    const adopted = untold === undefined ? 0 : adoptLiveCalls(this, untold, silent);
    if (untold !== undefined) adoptSupervisors(this, untold);
    // Before the queued events: they come after the answer that happened while nobody listened.
    const answered = channels === undefined ? 0 : answerKnownCalls(this, recovery?.known ?? [], channels);
    for (const event of recovery?.queued ?? []) this.handle(event);
    const live = new Set(channels?.map((channel) => channel.uuid));
    const ended = channels === undefined ? 0 : endVanishedCalls(this, recovery?.known ?? [], live);
    return { adopted, answered, ended };
  }

  handle(event: EslEvent): void {
    const handler = ESL_EVENT_HANDLERS.get(event.name);
    if (handler === undefined) return;
    if (this.#recovery !== undefined) {
      if (this.#recovery.queued.length < MAX_QUEUED_DURING_RECOVERY) {
        this.#recovery.queued.push(event);
        return;
      }
      // A recovery that takes this long is not coming: what waited is handled, and so is the rest.
      this.#options.logger?.warn({ queued: this.#recovery.queued.length }, "recovery too slow; handling events now");
      const { queued } = this.#recovery;
      this.#recovery = undefined;
      for (const waiting of queued) this.handle(waiting);
    }
    this.stats.handled++;
    handler(this, event);
    const persistence = this.#options.persistence;
    if (persistence === undefined) return;
    const call = this.callOfLeg(event.get("Unique-ID"));
    if (call?.announced && !call.ended) persistence.save(call);
  }

  expectOriginate(expectation: OriginateExpectation): void {
    this.#expected.set(expectation.callId, { expectation, expiresMs: this.#now() + this.#ttlMs });
  }

  cancelOriginate(callId: string): void {
    this.#expected.delete(callId);
  }

  expectSpy(spyCallId: string, supervisor: string): void {
    if (this.#spies.get(spyCallId)?.legUuid !== undefined) return;
    this.#spies.set(spyCallId, { supervisor, expiresMs: this.#now() + this.#ttlMs, legUuid: undefined });
  }

  cancelSpy(spyCallId: string): void {
    if (this.#spies.get(spyCallId)?.legUuid === undefined) this.#spies.delete(spyCallId);
  }

  findSpySession(spyCallId: string): EslSupervisionSession | undefined {
    const spy = this.#spies.get(spyCallId);
    if (spy === undefined) return undefined;
    if (spy.legUuid === undefined) return { spyCallId, supervisor: spy.supervisor, leg: undefined };
    const leg = this.#callsByLeg.get(spy.legUuid)?.legs.get(spy.legUuid);
    if (leg === undefined || leg.hungUpUs !== undefined) {
      // The supervisor hung up (or their leg ended with the call): the session is over.
      this.#spies.delete(spyCallId);
      return undefined;
    }
    return { spyCallId, supervisor: spy.supervisor, leg };
  }

  tick(): void {
    const now = this.#now();
    for (const [callId, { expiresMs }] of this.#expected) if (expiresMs <= now) this.#expected.delete(callId);
    for (const [spyCallId, spy] of this.#spies) {
      if (spy.legUuid === undefined ? spy.expiresMs <= now : this.findSpySession(spyCallId) === undefined) {
        this.#spies.delete(spyCallId);
      }
    }
    const grace = this.#options.hangupGraceMs ?? 5000;
    for (const call of [...this.#calls]) {
      if (!call.allLegsHungUp) {
        call.hungUpSeenMs = undefined;
        continue;
      }
      call.hungUpSeenMs ??= now;
      if (now - call.hungUpSeenMs >= grace) this.#endHungUp(call);
    }
  }

  flush(): void {
    for (const call of [...this.#calls]) {
      if (call.allLegsHungUp) this.#endHungUp(call);
      else if (call.pending) this.release(call);
    }
  }

  /** Ends a call whose legs all sent CHANNEL_HANGUP but not (all) CHANNEL_HANGUP_COMPLETE. */
  #endHungUp(call: TrackedCall): void {
    let endedUs = call.first.startedUs;
    for (const leg of call.legs.values()) {
      leg.completedUs ??= leg.hungUpUs;
      endedUs = Math.max(endedUs, leg.completedUs ?? endedUs);
    }
    this.endCall(call, endedUs);
  }

  // EslTrackerContext: what the event handlers use.

  timeOf(event: EslEvent): number {
    return event.micros("Event-Date-Timestamp") ?? this.#now() * 1000;
  }

  callOfLeg(uuid: string | undefined): TrackedCall | undefined {
    return uuid === undefined || uuid === "" ? undefined : this.#callsByLeg.get(uuid);
  }

  takeExpectation(callId: string): OriginateExpectation | undefined {
    const expected = this.#expected.get(callId);
    this.#expected.delete(callId);
    return expected?.expectation;
  }

  claimSpy(callId: string, legUuid: string): boolean {
    const spy = this.#spies.get(callId);
    if (spy === undefined || spy.legUuid !== undefined) return false;
    spy.legUuid = legUuid;
    return true;
  }

  adoptSpy(spyCallId: string, legUuid: string, supervisor: string): void {
    this.#spies.set(spyCallId, { supervisor, expiresMs: Number.POSITIVE_INFINITY, legUuid });
  }

  expectedCallId(echo: { jobUuid?: string; extension: string; destination: string }): string | undefined {
    for (const [callId, { expectation }] of this.#expected) {
      if (echo.jobUuid !== undefined && expectation.jobUuid === echo.jobUuid) return callId;
      if (expectation.extension === echo.extension && expectation.destination === echo.destination) return callId;
    }
    return undefined;
  }

  pendingOriginates(): TrackedCall[] {
    return [...this.#calls].filter((call) => call.pending);
  }

  startCall(call: TrackedCall): void {
    this.#calls.add(call);
    this.#callsByLeg.set(call.first.uuid, call);
    this.stats.callsStarted++;
  }

  newCallId(pbxCallId: string): string {
    return deriveEslCallId(this.#options.agentId, pbxCallId);
  }

  addLeg(call: TrackedCall, leg: TrackedLeg, role: LegRole): void {
    leg.role = role;
    call.legs.set(leg.uuid, leg);
    this.#callsByLeg.set(leg.uuid, call);
  }

  absorb(into: TrackedCall, from: TrackedCall, firstRole: LegRole): void {
    for (const leg of from.legs.values()) this.addLeg(into, leg, leg === from.first ? firstRole : leg.role);
    this.#calls.delete(from);
    this.stats.callsStarted--;
    this.stats.callsFolded++;
  }

  emit(call: TrackedCall, kind: CallEventKind, atUs: number, leg: TrackedLeg, transferredTo?: string): void {
    // A dialed trunk leg is named by the number it dialed.
    const extension = leg.extension || (leg.trunk !== "" && leg.role !== "first" ? leg.destination : "");
    const about = { extension, legId: leg.uuid, transferredTo };
    const event = buildCallEvent(call, kind, atUs, about, this.#options.agentId, this.plan);
    if (call.pending) {
      call.heldEvents.push(event);
      return;
    }
    call.announced = true;
    this.#options.onOutput({ kind: "event", event });
  }

  release(call: TrackedCall): void {
    if (!call.pending || call.spySession) return;
    call.pending = false;
    // Facts learned by classifying the originate hold for the whole call.
    const direction = call.direction(this.plan);
    const variables = call.echoedVariables();
    for (const event of call.heldEvents) {
      event.callId = call.callId;
      event.eventId = `${call.callId}:${event.sequence}`;
      event.toNumber = call.toNumber;
      event.direction = direction;
      event.variables = variables;
      call.announced = true;
      this.#options.onOutput({ kind: "event", event });
    }
    call.heldEvents.length = 0;
  }

  endCall(call: TrackedCall, atUs: number): void {
    call.endedUs = atUs;
    if (call.spySession && call.pending) {
      // A Spy that never joined the spied call (unanswered, or that call was gone): nothing to report.
      this.#calls.delete(call);
      for (const uuid of call.legs.keys()) this.#callsByLeg.delete(uuid);
      this.#spies.delete(call.callId);
      return;
    }
    this.release(call);
    const hangupLeg = this.#hangupLeg(call);
    this.emit(call, CallEventKind.HANGUP, atUs, hangupLeg, call.transferredTo || undefined);
    this.#calls.delete(call);
    for (const uuid of call.legs.keys()) this.#callsByLeg.delete(uuid);
    this.stats.callsEnded++;
    this.#options.onOutput({ kind: "cdr", cdr: buildCdr(call, this.#options.agentId, this.plan) });
    this.#options.persistence?.drop(call);
  }

  ignore(reason: IgnoreReason): void {
    this.stats.ignored[reason]++;
  }

  log(): Logger | undefined {
    return this.#options.logger;
  }

  /** The leg the HANGUP is about: the extension the caller last talked to, else the agent's or the caller's. */
  #hangupLeg(call: TrackedCall): TrackedLeg {
    const party = call.transferredTo || call.answeredBy || call.agentExtension;
    if (party !== "") {
      for (const leg of [...call.legs.values()].reverse()) if (leg.extension === party) return leg;
    }
    return call.first;
  }
}
