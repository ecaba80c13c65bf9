import type { ChannelFacts, TrackedCall, TrackedChannel } from "./ami-call.js";
import type { AmiMessage } from "./ami-message.js";
import type { NumberPlan } from "./ami-number-plan.js";

/** Why an event changed nothing; each is counted, and the metric carries it as its reason. */
export type IgnoreReason = "malformed" | "unknown_call" | "unknown_channel" | "duplicate" | "late";

/** What handlers may do to the tracker: look calls up, change them, and make it emit. */
export interface CallTrackerContext {
  readonly plan: NumberPlan;
  /** When the event happened on the PBX (its `Timestamp`), else the fallback clock. */
  timeOf(message: AmiMessage): number;
  /** The call of a Linkedid; undefined (and counted) when it was never seen starting. */
  callOf(linkedid: string | undefined): TrackedCall | undefined;
  /**
   * The call an event is about: by its `Linkedid`, else (Asterisk 11 sends none) by the
   * call its `Uniqueid` belongs to. Undefined, and counted, when neither is known.
   */
  callOfEvent(message: AmiMessage): TrackedCall | undefined;
  /** The call a channel belongs to, ended calls still waiting for their Cdr included. */
  callOfChannel(uniqueid: string | undefined): TrackedCall | undefined;
  describeChannel(uniqueid: string, name: string, facts: ChannelFacts): TrackedChannel;
  startCall(linkedid: string, first: TrackedChannel, facts: ChannelFacts): TrackedCall;
  addChannel(call: TrackedCall, channel: TrackedChannel): void;
  /**
   * A channel turned out to belong to `call` (Asterisk 11 Dial, a park pickup's Linkedid
   * change): it moves there, and the call it started on its own is dropped if nothing of
   * it went out.
   */
  moveChannel(uniqueid: string, call: TrackedCall, atUs: number): TrackedChannel | undefined;
  /** `CALLMESH_CALL_ID` arrived: the call takes that id if nothing went out yet. */
  bindCallId(call: TrackedCall, callId: string): void;
  /** The most recent click-to-call whose Local channel is `Local/<exten>@<context>`. */
  clickToCallOf(localChannel: string): TrackedCall | undefined;
  /** Emits ORIGINATE for a click-to-call that has not been announced yet. */
  announce(call: TrackedCall): void;
  /** It is a customer call after all: held outputs go out. */
  releaseHeld(call: TrackedCall): void;
  /** `extension` is who the event is about, `legId` the Uniqueid of their channel ("" if unknown). */
  emitRinging(call: TrackedCall, atUs: number, extension: string, legId: string): void;
  emitAnswered(call: TrackedCall, atUs: number, extension: string, legId: string): void;
  emitHeld(call: TrackedCall, atUs: number, extension: string, legId: string): void;
  emitResumed(call: TrackedCall, atUs: number, extension: string, legId: string): void;
  /** The call went to `call.transferredTo`; `extension` and `legId` are who transferred it. */
  emitTransferred(call: TrackedCall, atUs: number, extension: string, legId: string): void;
  /** The last channel hung up: HANGUP now, the Cdr once Asterisk's own Cdr events had time to arrive. */
  endCall(call: TrackedCall, atUs: number): void;
  /** An event that changed nothing, for the counters. */
  ignore(reason: IgnoreReason): void;
}

export type AmiEventHandler = (tracker: CallTrackerContext, message: AmiMessage) => void;
