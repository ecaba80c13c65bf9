import { create } from "@bufbuild/protobuf";
import { type ActiveCall, ActiveCallSchema, ActiveCallState } from "@callmesh/gen/callmesh/events/v1/active_call_pb.js";
import { CallDirection } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import { timestampFromMicros } from "../../normalize/timestamp.js";
import type { TrackedCall } from "./ami-call.js";
import { buildLeg } from "./ami-call-output.js";
import { ringingExtensions } from "./ami-call-parties.js";
import type { SupervisionSession } from "./ami-call-tracker.js";
import type { NumberPlan } from "./ami-number-plan.js";

/** A call in progress as ListCalls shows it: the tracker's knowledge now, legs so far included. */
export function buildActiveCall(call: TrackedCall, agentId: string, plan: NumberPlan): ActiveCall {
  const active = create(ActiveCallSchema, {
    callId: call.callId,
    agentId,
    pbxCallId: call.linkedid,
    direction: call.direction(plan),
    fromNumber: call.fromNumber,
    toNumber: call.destination,
    callerIdNumber: call.callerIdNumber,
    callerIdName: call.callerIdName,
    trunk: call.trunk,
    queue: call.queue,
    state: stateOf(call),
    answeredBy: call.transferredTo || call.answeredBy,
    ringingExtensions: ringingExtensions(call),
    startedAt: timestampFromMicros(call.startedUs),
    legs: [...call.channels.values()].map(buildLeg),
    variables: call.echoedVariables(),
    parkedAt: call.parkedAt,
  });
  if (call.answeredUs !== undefined) active.answeredAt = timestampFromMicros(call.answeredUs);
  return active;
}

function stateOf(call: TrackedCall): ActiveCallState {
  if (call.parkedAt !== "") return ActiveCallState.PARKED;
  if (call.answeredUs === undefined) return call.queue !== "" ? ActiveCallState.QUEUED : ActiveCallState.RINGING;
  for (const channel of call.channels.values()) {
    if (channel.held && !channel.hungUp) return ActiveCallState.HELD;
  }
  return ActiveCallState.ANSWERED;
}

/**
 * A supervision session as ListCalls shows it when asked for by its spy_call_id: the
 * supervisor's call, ringing until their phone answered, then answered by them.
 */
export function buildSupervisionActiveCall(session: SupervisionSession, agentId: string, plan: NumberPlan): ActiveCall {
  const { call } = session;
  if (call === undefined) {
    // The Originate is queued: nothing on the PBX yet.
    return create(ActiveCallSchema, {
      callId: session.spyCallId,
      agentId,
      direction: CallDirection.INTERNAL,
      fromNumber: session.supervisor,
      state: ActiveCallState.RINGING,
      ringingExtensions: [session.supervisor],
    });
  }
  const active = buildActiveCall(call, agentId, plan);
  active.direction = CallDirection.INTERNAL;
  const phone = [...call.channels.values()].find((channel) => channel.parsed.local === undefined);
  const answeredUs = phone?.upUs;
  active.state = answeredUs === undefined ? ActiveCallState.RINGING : ActiveCallState.ANSWERED;
  if (answeredUs !== undefined) {
    active.answeredBy = session.supervisor;
    active.answeredAt = timestampFromMicros(answeredUs);
  }
  return active;
}
