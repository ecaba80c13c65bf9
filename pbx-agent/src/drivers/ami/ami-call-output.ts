import { create } from "@bufbuild/protobuf";
import { type CallEvent, CallEventKind, CallEventSchema } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { CallStatus } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import { type Cdr, CdrSchema } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import type { TrackedCall } from "./ami-call.js";
import { callStatusOf } from "./ami-call-status.js";
import { createHangupCause } from "../../normalize/hangup-cause.js";
import type { NumberPlan } from "./ami-number-plan.js";
import { secondsBetween as seconds, timestampFromMicros } from "./ami-time.js";

/**
 * The messages a call's state turns into. Every CallEvent is a snapshot of the whole call
 * at that moment, so a consumer that sees only one event still has the numbers.
 */
export function buildCallEvent(
  call: TrackedCall,
  kind: CallEventKind,
  atUs: number,
  extension: string,
  agentId: string,
  plan: NumberPlan,
): CallEvent {
  call.sequence++;
  const hangup = kind === CallEventKind.HANGUP;
  const event = create(CallEventSchema, {
    eventId: `${call.callId}:${call.sequence}`,
    callId: call.callId,
    sequence: call.sequence,
    kind,
    occurredAt: timestampFromMicros(atUs),
    agentId,
    pbxCallId: call.linkedid,
    direction: call.direction(plan),
    fromNumber: call.fromNumber,
    toNumber: call.destination,
    callerIdNumber: call.callerIdNumber,
    callerIdName: call.callerIdName,
    extension,
    trunk: call.trunk,
    startedAt: timestampFromMicros(call.startedUs),
    durationSeconds: seconds(call.startedUs, atUs),
    variables: call.echoedVariables(),
  });
  if (call.answeredUs !== undefined) event.answeredAt = timestampFromMicros(call.answeredUs);
  if (hangup && call.endedUs !== undefined) {
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
    direction: call.direction(plan),
    fromNumber: call.fromNumber,
    toNumber: call.destination,
    callerIdNumber: call.callerIdNumber,
    callerIdName: call.callerIdName,
    trunk: call.trunk,
    answeredBy: call.answeredBy,
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
  });
  if (call.answeredUs !== undefined) cdr.answeredAt = timestampFromMicros(call.answeredUs);
  return cdr;
}

function statusOf(call: TrackedCall): CallStatus {
  if (!call.ended) return CallStatus.UNSPECIFIED;
  return callStatusOf({
    answered: call.answeredUs !== undefined,
    originateFailed: call.clickToCall && (call.originateFailed || !call.agentAnswered),
    dialStatus: call.dialStatus,
    q850Code: call.causeCode,
  });
}

function talkSeconds(call: TrackedCall): number {
  return call.answeredUs === undefined || call.endedUs === undefined ? 0 : seconds(call.answeredUs, call.endedUs);
}
