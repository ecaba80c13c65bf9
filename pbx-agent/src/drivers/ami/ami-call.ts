import { CallDirection } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import type { CallOutput } from "../../ports/pbx-driver.js";
import { type ChannelName, parseChannelName } from "./ami-channel-name.js";
import type { NumberPlan } from "./ami-number-plan.js";

/** What Newchannel says about a channel when it appears. */
export interface ChannelFacts {
  atUs: number;
  context: string;
  exten: string;
  callerIdNumber: string;
  callerIdName: string;
}

/** One channel of a call, from Newchannel to Hangup: a leg of the Cdr. */
export interface TrackedChannel {
  readonly uniqueid: string;
  readonly name: string;
  readonly parsed: ChannelName;
  /** The extension whose phone this channel is, "" for trunks and Local channels. */
  extension: string;
  /** The trunk this channel is on, "" for phones and Local channels. */
  trunk: string;
  /** A trunk channel the call dialed: the outside number it rings, which names it in events; "" otherwise. */
  dialedNumber: string;
  readonly startedUs: number;
  /** When the channel went Up (answered, by a person or by an application). */
  upUs: number | undefined;
  endedUs: number | undefined;
  q850Code: number;
  /** The first DialEnd status of the dial that created it, "" if none. */
  dialStatus: string;
  /** On hold (Hold seen, Unhold not yet). */
  held: boolean;
  /**
   * The driver's hold command put this channel into music on hold: its MusicOnHoldStart
   * is the hold and its MusicOnHoldStop the resume (a phone's own hold sends Hold instead).
   */
  holdByCommand: boolean;
  hungUp: boolean;
}

/** One Dial attempt from a channel of the call to a new channel. */
export interface DialLeg {
  /** Uniqueid of the dialing channel; "" for the dial Originate itself makes. */
  readonly from: string;
  readonly to: TrackedChannel;
  /** The first DialEnd status; later repeats are ignored. */
  status: string;
}

/** A click-to-call the driver started and expects to see on the PBX. */
export interface OriginateExpectation {
  callId: string;
  /** Extension rung first, as in `Local/<extension>@<context>`. */
  extension: string;
  context: string;
  destination: string;
  /** Variables given at originate; the names decide which VarSets come back on the call. */
  variables: Readonly<Record<string, string>>;
}

/** A Cdr event Asterisk sent for one of the call's channels. */
export interface AsteriskCdr {
  uniqueid: string;
  disposition: string;
}

/**
 * Which phone or trunk a channel is. The endpoint name decides when it looks like an
 * extension (`PJSIP/1001`); chan_sip peers are often named otherwise (`SIP/9170-12`,
 * `SIP/alice`) and then carry their extension as their own caller id, which a channel
 * outside the trunk contexts is taken for. Anything else is a trunk.
 */
export function describeChannel(uniqueid: string, name: string, facts: ChannelFacts, plan: NumberPlan): TrackedChannel {
  const parsed = parseChannelName(name);
  let extension = "";
  let trunk = "";
  if (parsed.local === undefined && parsed.resource !== "") {
    const callerId = presented(facts.callerIdNumber);
    if (plan.isExtension(parsed.resource)) extension = parsed.resource;
    else if (callerId !== "" && plan.isExtension(callerId) && !plan.isTrunkContext(facts.context)) extension = callerId;
    else trunk = parsed.resource;
  }
  return {
    uniqueid,
    name,
    parsed,
    extension,
    trunk,
    dialedNumber: "",
    startedUs: facts.atUs,
    upUs: undefined,
    endedUs: undefined,
    q850Code: 0,
    dialStatus: "",
    held: false,
    holdByCommand: false,
    hungUp: false,
  };
}

/**
 * The state of one call: every channel sharing a Linkedid. It only records facts; the
 * tracker decides what to emit. Numbers come from the first channel (the one whose
 * Uniqueid is the Linkedid), except for click-to-call, where the call is placed on behalf
 * of the agent's extension and goes to the originate's destination.
 */
export class TrackedCall {
  readonly linkedid: string;
  callId: string;
  readonly first: TrackedChannel;
  readonly startedUs: number;
  /** The first channel is a Local channel: an Originate (click-to-call) made this call. */
  readonly clickToCall: boolean;
  /** Entered the PBX from a trunk context (for a call recovered mid-way: its first channel is a trunk). */
  inbound: boolean;
  /** Channels in the order they appeared. */
  readonly channels = new Map<string, TrackedChannel>();
  readonly legs = new Map<string, DialLeg>();
  liveChannels = 0;

  /** The first CallEvent went out: the call id can no longer change. */
  announced = false;
  sequence = 0;
  expectation: OriginateExpectation | undefined;
  /**
   * Outputs held back while it is unknown whether this is a customer call: an Originate
   * nobody announced may turn out to be a supervisor's ChanSpy. Undefined once released.
   */
  heldOutputs: CallOutput[] | undefined;
  /** A supervisor listening in (ChanSpy), not a conversation with a customer. */
  supervision = false;
  /**
   * The driver's own Spy made it: a supervision session, its call id the gateway's spy_call_id
   * (set as CALLMESH_CALL_ID), by which call control finds it while it lasts. Never reported.
   */
  spySession = false;
  /**
   * Asterisk 11 (no Linkedid): started by a channel created with no extension to run,
   * i.e. dialed by some other channel; dropped if it ends before any Dial claimed it.
   */
  provisional = false;

  fromNumber: string;
  toNumber: string;
  callerIdNumber: string;
  callerIdName: string;
  trunk: string;
  queue = "";
  /** A trunk was dialed from inside the PBX. */
  trunkDialed = false;
  /** An extension was dialed (beyond the agent's own phone of a click-to-call). */
  extensionDialed = false;

  readonly rung: string[] = [];
  readonly answeredExtensions = new Set<string>();
  answeredUs: number | undefined;
  answeredBy = "";
  /** Extension a transfer or a park pickup last handed the call to. */
  transferredTo = "";
  /** The parking space (`ParkingSpace`) while the call is parked, else "". */
  parkedAt = "";
  /** Click-to-call: the agent picked up their phone. */
  agentAnswered = false;
  /** Click-to-call: Asterisk reported the Originate failed. */
  originateFailed = false;
  /** The caller left a queue before an agent answered. */
  abandoned = false;
  dialStatus = "";

  endedUs: number | undefined;
  q850Code = -1;
  lastQ850Code = 0;
  sipCode = 0;
  readonly variables = new Map<string, string>();
  readonly asteriskCdrs: AsteriskCdr[] = [];
  /** Wall-clock and event-clock times after which the Cdr goes out without waiting for more Asterisk Cdr events. */
  cdrDueWallUs = 0;
  cdrDueEventUs = 0;

  constructor(linkedid: string, callId: string, first: TrackedChannel, facts: ChannelFacts, plan: NumberPlan) {
    this.linkedid = linkedid;
    this.callId = callId;
    this.first = first;
    this.startedUs = facts.atUs;
    this.clickToCall = first.parsed.local !== undefined;
    this.inbound = !this.clickToCall && plan.isTrunkContext(facts.context);
    this.callerIdNumber = presented(facts.callerIdNumber);
    this.callerIdName = presented(facts.callerIdName);
    if (this.clickToCall) {
      this.fromNumber = first.parsed.local?.exten ?? "";
      this.toNumber = "";
      this.trunk = "";
    } else {
      this.fromNumber = this.callerIdNumber || first.extension || first.trunk;
      this.toNumber = facts.exten === "s" ? "" : facts.exten;
      this.trunk = first.trunk;
    }
    this.addChannel(first);
  }

  addChannel(channel: TrackedChannel): void {
    this.channels.set(channel.uniqueid, channel);
    if (!channel.hungUp) this.liveChannels++;
  }

  removeChannel(channel: TrackedChannel): void {
    if (this.channels.delete(channel.uniqueid) && !channel.hungUp) this.liveChannels--;
  }

  /** The agent's extension for a click-to-call, else "". */
  get agentExtension(): string {
    return this.clickToCall ? (this.first.parsed.local?.exten ?? "") : "";
  }

  /** One of the two halves of the Local channel the Originate created. */
  isOriginHalf(channelName: string): boolean {
    const first = this.first.name;
    return (
      this.clickToCall &&
      channelName.length === first.length &&
      channelName.startsWith(first.slice(0, -1)) &&
      (channelName.endsWith(";1") || channelName.endsWith(";2"))
    );
  }

  /** Click-to-call: the leg that rings the agent's own phone (dialed by the `;2` half). */
  isAgentLeg(leg: DialLeg): boolean {
    if (!this.clickToCall || leg.from === "") return false;
    const from = this.channels.get(leg.from);
    return from !== undefined && from !== this.first && this.isOriginHalf(from.name);
  }

  get ended(): boolean {
    return this.endedUs !== undefined;
  }

  /** Nothing of this call went out yet, held outputs aside. */
  get silent(): boolean {
    return this.sequence === 0 || this.heldOutputs !== undefined;
  }

  /** Best knowledge of the direction now; final once the call ended. */
  direction(plan: NumberPlan): CallDirection {
    if (this.inbound) return CallDirection.INBOUND;
    if (this.trunkDialed) return CallDirection.OUTBOUND;
    if (this.clickToCall) {
      const destination = this.destination;
      if (destination !== "") return plan.isExtension(destination) ? CallDirection.INTERNAL : CallDirection.OUTBOUND;
      return this.extensionDialed ? CallDirection.INTERNAL : CallDirection.UNSPECIFIED;
    }
    if (this.extensionDialed || this.ended) return CallDirection.INTERNAL;
    return CallDirection.UNSPECIFIED;
  }

  /** Where the call was placed to. */
  get destination(): string {
    return this.expectation?.destination || this.toNumber;
  }

  /** Variables to echo: the originate's names, valued as the PBX reported them. */
  echoedVariables(): Record<string, string> {
    const result: Record<string, string> = {};
    const expected = this.expectation?.variables;
    if (expected !== undefined) {
      for (const [name, value] of Object.entries(expected)) result[name] = this.variables.get(name) ?? value;
      return result;
    }
    for (const [name, value] of this.variables) result[name] = value;
    return result;
  }

  missedExtensions(): string[] {
    return this.rung.filter((extension) => !this.answeredExtensions.has(extension));
  }

  /** Cause of the originating channel, else of the channel that hung up last. */
  get causeCode(): number {
    return this.q850Code >= 0 ? this.q850Code : this.lastQ850Code;
  }

  /** Asterisk's own disposition: ANSWERED if any of its CDRs says so, else that of the first channel's CDR. */
  get disposition(): string {
    const cdrs = this.asteriskCdrs;
    if (cdrs.length === 0) return "";
    if (cdrs.some((cdr) => cdr.disposition === "ANSWERED")) return "ANSWERED";
    return (cdrs.find((cdr) => cdr.uniqueid === this.first.uniqueid) ?? cdrs[0])?.disposition ?? "";
  }
}

/** Asterisk writes `<unknown>` for an absent caller id. */
export function presented(value: string | undefined): string {
  return value === undefined || value === "<unknown>" ? "" : value;
}
