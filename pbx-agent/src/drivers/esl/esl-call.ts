import type { CallEvent } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { CallDirection } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import type { TrackedLeg } from "./esl-leg.js";
import type { EslNumberPlan } from "./esl-number-plan.js";

/** A click-to-call the driver sent and expects to see on the PBX. */
export interface OriginateExpectation {
  callId: string;
  /** The agent's extension, rung first. */
  extension: string;
  destination: string;
  /** The CRM's variables; the names decide which channel variables come back. */
  variables: Readonly<Record<string, string>>;
  /** The `Job-UUID` the bgapi was sent with: its BACKGROUND_JOB names the agent's leg. */
  jobUuid?: string;
}

/**
 * How the call began. `dialed`: a phone or a trunk called in. `originate`: FreeSWITCH
 * placed the first leg itself (bgapi originate) — a click-to-call, or a supervisor's
 * eavesdrop, which only the originate's arguments or its first application tell apart.
 */
export type CallOrigin = "dialed" | "originate";

/**
 * The state of one conversation: every leg tied to its first one. It only records facts;
 * the tracker decides what to emit.
 */
export class TrackedCall {
  readonly pbxCallId: string;
  callId: string;
  readonly first: TrackedLeg;
  readonly origin: CallOrigin;
  /** Legs by Unique-ID, in the order they started. */
  readonly legs = new Map<string, TrackedLeg>();
  /** An originate not yet known to be a click-to-call: its events wait in `heldEvents`. */
  pending: boolean;
  /**
   * The driver's own Spy placed it (its leg carries the gateway's spy_call_id as callmesh_call_id):
   * a supervisor, never a click-to-call, so it stays pending until folded into the spied call.
   */
  spySession = false;
  readonly heldEvents: CallEvent[] = [];
  announced = false;
  sequence = 0;
  expectation: OriginateExpectation | undefined;

  readonly inbound: boolean;
  fromNumber: string;
  toNumber: string;
  callerIdNumber: string;
  callerIdName: string;
  trunk: string;
  queue = "";
  trunkDialed = false;
  extensionDialed = false;

  /** Extensions that rang, in the order their legs were created. */
  readonly rung: string[] = [];
  readonly #rungOrder: number[] = [];
  readonly answeredExtensions = new Set<string>();
  answeredUs: number | undefined;
  answeredBy = "";
  /** The extension (or number) the caller is connected to now: the answerer, then each transfer target. */
  connectedTo = "";
  transferredTo = "";
  /** The valet slot a Park command put the caller in; "" when not parked (cleared when picked up). */
  parkedAt = "";
  /** Legs a Hold command put on hold (CHANNEL_HOLD seen, no CHANNEL_UNHOLD yet), by Unique-ID. */
  readonly heldLegs = new Set<string>();
  /** Click-to-call: the agent picked up their phone. */
  agentAnswered = false;
  /** The caller left a queue with no agent (CC-Cause Cancel), or the queue gave up on them. */
  queueExit: "" | "abandoned" | "gave_up" = "";

  /** Variable names to echo (the click-to-call's), and the values the PBX reported. */
  variableNames: readonly string[] = [];
  readonly variables = new Map<string, string>();
  endedUs: number | undefined;

  constructor(pbxCallId: string, callId: string, first: TrackedLeg, origin: CallOrigin, fields: FirstLegFields) {
    this.pbxCallId = pbxCallId;
    this.callId = callId;
    this.first = first;
    this.origin = origin;
    this.pending = origin === "originate";
    this.inbound = origin === "dialed" && first.trunk !== "";
    this.callerIdNumber = fields.callerIdNumber;
    this.callerIdName = fields.callerIdName;
    this.trunk = first.trunk;
    if (origin === "originate") {
      this.fromNumber = first.extension;
      this.toNumber = "";
    } else {
      this.fromNumber = first.extension || fields.callerIdNumber;
      this.toNumber = first.destination;
    }
    this.legs.set(first.uuid, first);
  }

  get ended(): boolean {
    return this.endedUs !== undefined;
  }

  get clickToCall(): boolean {
    return this.origin === "originate";
  }

  /** The agent's extension for a click-to-call, else "". */
  get agentExtension(): string {
    return this.clickToCall ? this.first.extension : "";
  }

  /** Every leg sent CHANNEL_HANGUP. */
  get allLegsHungUp(): boolean {
    for (const leg of this.legs.values()) if (leg.hungUpUs === undefined) return false;
    return true;
  }

  /** Wall-clock time the tracker first saw every leg hung up (for its grace period). */
  hungUpSeenMs: number | undefined;

  /** Every leg has completed. */
  get allLegsDone(): boolean {
    for (const leg of this.legs.values()) if (leg.completedUs === undefined) return false;
    return true;
  }

  /** Best knowledge of the direction now; final once the call ended. */
  direction(plan: EslNumberPlan): CallDirection {
    if (this.inbound) return CallDirection.INBOUND;
    if (this.trunkDialed) return CallDirection.OUTBOUND;
    if (this.clickToCall) {
      const destination = this.toNumber;
      if (destination !== "") return plan.isExtension(destination) ? CallDirection.INTERNAL : CallDirection.OUTBOUND;
      return this.extensionDialed ? CallDirection.INTERNAL : CallDirection.UNSPECIFIED;
    }
    if (this.extensionDialed || this.ended) return CallDirection.INTERNAL;
    return CallDirection.UNSPECIFIED;
  }

  echoedVariables(): Record<string, string> {
    const result: Record<string, string> = {};
    for (const name of this.variableNames) {
      const value = this.variables.get(name) ?? this.expectation?.variables[name];
      if (value !== undefined) result[name] = value;
    }
    return result;
  }

  /** Records that `leg`'s extension rang; false if it had rung before. */
  addRung(leg: TrackedLeg): boolean {
    if (this.rung.includes(leg.extension)) return false;
    let at = this.rung.length;
    while (at > 0 && (this.#rungOrder[at - 1] as number) > leg.order) at--;
    this.rung.splice(at, 0, leg.extension);
    this.#rungOrder.splice(at, 0, leg.order);
    return true;
  }

  missedExtensions(): string[] {
    return this.rung.filter((extension) => !this.answeredExtensions.has(extension));
  }
}

export interface FirstLegFields {
  callerIdNumber: string;
  callerIdName: string;
}
