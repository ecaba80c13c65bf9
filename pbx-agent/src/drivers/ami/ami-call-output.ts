import { create } from "@bufbuild/protobuf";
import { type CallEvent, CallEventKind, CallEventSchema } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { CallStatus, PbxKind } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import { type CallLeg, CallLegSchema, type Cdr, CdrSchema } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import { secondsBetween as seconds } from "../../normalize/duration.js";
import { createHangupCause } from "../../normalize/hangup-cause.js";
import { timestampFromMicros } from "../../normalize/timestamp.js";
import type { TrackedCall, TrackedChannel } from "./ami-call.js";
import { callStatusOf } from "./ami-call-status.js";
import type { NumberPlan } from "./ami-number-plan.js";

/**
 * The messages a call's state turns into. Every CallEvent is a snapshot of the whole call
 * at that moment, so a consumer that sees only one event still has the numbers.
 */
export function buildCallEvent(
  call: TrackedCall,
  kind: CallEventKind,
  atUs: number,
  extension: string,
  legId: string,
  agentId: string,
  plan: NumberPlan,
): CallEvent {
  call.sequence++;
  const event = create(CallEventSchema, {
    eventId: `${call.callId}:${call.sequence}`,
    callId: call.callId,
    sequence: call.sequence,
    kind,
    occurredAt: timestampFromMicros(atUs),
    agentId,
    pbxCallId: call.linkedid,
    pbxLegId: legId,
    direction: call.direction(plan),
    fromNumber: call.fromNumber,
    toNumber: call.destination,
    callerIdNumber: call.callerIdNumber,
    callerIdName: call.callerIdName,
    extension,
    trunk: call.trunk,
    queue: call.queue,
    transferredTo: call.transferredTo,
    startedAt: timestampFromMicros(call.startedUs),
    durationSeconds: seconds(call.startedUs, atUs),
    variables: call.echoedVariables(),
  });
  if (call.answeredUs !== undefined) event.answeredAt = timestampFromMicros(call.answeredUs);
  if (kind === CallEventKind.HANGUP && call.endedUs !== undefined) {
    event.endedAt = timestampFromMicros(call.endedUs);
    event.talkSeconds = talkSeconds(call);
    event.status = statusOf(call);
    event.cause = createHangupCause(call.causeCode, call.sipCode);
  }
  return event;
}

export function buildCdr(call: TrackedCall, agentId: string, plan: NumberPlan): Cdr {
  const endedUs = call.endedUs ?? call.startedUs;
  const cdr = create(CdrSchema, {
    id: call.callId,
    callId: call.callId,
    agentId,
    pbxCallId: call.linkedid,
    pbxKind: PbxKind.ASTERISK,
    direction: call.direction(plan),
    fromNumber: call.fromNumber,
    toNumber: call.destination,
    callerIdNumber: call.callerIdNumber,
    callerIdName: call.callerIdName,
    trunk: call.trunk,
    queue: call.queue,
    answeredBy: call.answeredBy,
    transferredTo: call.transferredTo,
    rungExtensions: [...call.rung],
    missedExtensions: call.missedExtensions(),
    startedAt: timestampFromMicros(call.startedUs),
    endedAt: timestampFromMicros(endedUs),
    durationSeconds: seconds(call.startedUs, endedUs),
    talkSeconds: talkSeconds(call),
    waitSeconds: seconds(call.startedUs, call.answeredUs ?? endedUs),
    status: statusOf(call),
    cause: createHangupCause(call.causeCode, call.sipCode),
    disposition: call.disposition,
    variables: call.echoedVariables(),
    legs: [...call.channels.values()].map(buildLeg),
  });
  if (call.answeredUs !== undefined) cdr.answeredAt = timestampFromMicros(call.answeredUs);
  return cdr;
}

/** A channel as a leg of the Cdr; Local channels are legs too, with neither extension nor trunk. */
export function buildLeg(channel: TrackedChannel): CallLeg {
  const leg = create(CallLegSchema, {
    pbxLegId: channel.uniqueid,
    channel: channel.name,
    extension: channel.extension,
    trunk: channel.trunk,
    startedAt: timestampFromMicros(channel.startedUs),
    cause: createHangupCause(channel.q850Code, 0),
    dialStatus: channel.dialStatus,
  });
  if (channel.upUs !== undefined) leg.answeredAt = timestampFromMicros(channel.upUs);
  if (channel.endedUs !== undefined) leg.endedAt = timestampFromMicros(channel.endedUs);
  return leg;
}

function statusOf(call: TrackedCall): CallStatus {
  if (!call.ended) return CallStatus.UNSPECIFIED;
  return callStatusOf({
    answered: call.answeredUs !== undefined,
    originateFailed: call.clickToCall && (call.originateFailed || !call.agentAnswered),
    abandoned: call.abandoned,
    dialStatus: call.dialStatus,
    q850Code: call.causeCode,
  });
}

function talkSeconds(call: TrackedCall): number {
  return call.answeredUs === undefined || call.endedUs === undefined ? 0 : seconds(call.answeredUs, call.endedUs);
}
