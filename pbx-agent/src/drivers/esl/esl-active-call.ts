import { create } from "@bufbuild/protobuf";
import { type ActiveCall, ActiveCallSchema, ActiveCallState } from "@callmesh/gen/callmesh/events/v1/active_call_pb.js";
import { CallDirection } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import { timestampFromMicros } from "../../normalize/timestamp.js";
import type { TrackedCall } from "./esl-call.js";
import { buildLeg } from "./esl-call-output.js";
import { ringingExtensions } from "./esl-call-parties.js";
import type { EslSupervisionSession } from "./esl-call-tracker.js";
import type { EslNumberPlan } from "./esl-number-plan.js";

/** A call in progress as ListCalls shows it: the tracker's knowledge now, legs so far included. */
export function buildEslActiveCall(call: TrackedCall, agentId: string, plan: EslNumberPlan): ActiveCall {
  const active = create(ActiveCallSchema, {
    callId: call.callId,
    agentId,
    pbxCallId: call.pbxCallId,
    direction: call.direction(plan),
    fromNumber: call.fromNumber,
    toNumber: call.toNumber,
    callerIdNumber: call.callerIdNumber,
    callerIdName: call.callerIdName,
    trunk: call.trunk,
    queue: call.queue,
    state: stateOf(call),
    answeredBy: call.transferredTo || call.answeredBy,
    ringingExtensions: ringingExtensions(call),
    startedAt: timestampFromMicros(call.first.startedUs),
    legs: [...call.legs.values()].filter((leg) => leg.role !== "monitor").map(buildLeg),
    variables: call.echoedVariables(),
    parkedAt: call.parkedAt,
  });
  if (call.answeredUs !== undefined) active.answeredAt = timestampFromMicros(call.answeredUs);
  return active;
}

function stateOf(call: TrackedCall): ActiveCallState {
  if (call.parkedAt !== "") return ActiveCallState.PARKED;
  if (call.answeredUs === undefined) return call.queue !== "" ? ActiveCallState.QUEUED : ActiveCallState.RINGING;
  for (const uuid of call.heldLegs) {
    if (call.legs.get(uuid)?.hungUpUs === undefined) return ActiveCallState.HELD;
  }
  return ActiveCallState.ANSWERED;
}

/**
 * A supervision session as ListCalls shows it when asked for by its spy_call_id: the supervisor's
 * leg, ringing until they answered, then answered by them.
 */
export function buildEslSupervisionActiveCall(session: EslSupervisionSession, agentId: string): ActiveCall {
  const { leg } = session;
  const answered = leg?.answeredUs !== undefined;
  const active = create(ActiveCallSchema, {
    callId: session.spyCallId,
    agentId,
    pbxCallId: leg?.uuid ?? "",
    direction: CallDirection.INTERNAL,
    fromNumber: session.supervisor,
    state: answered ? ActiveCallState.ANSWERED : ActiveCallState.RINGING,
    answeredBy: answered ? session.supervisor : "",
    ringingExtensions: answered ? [] : [session.supervisor],
    legs: leg === undefined ? [] : [buildLeg(leg)],
  });
  if (leg !== undefined) active.startedAt = timestampFromMicros(leg.startedUs);
  if (leg?.answeredUs !== undefined) active.answeredAt = timestampFromMicros(leg.answeredUs);
  return active;
}
