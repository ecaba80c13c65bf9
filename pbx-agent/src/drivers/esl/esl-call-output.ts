import { create } from "@bufbuild/protobuf";
import { type CallEvent, CallEventKind, CallEventSchema } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { type CallStatus, PbxKind } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import { type CallLeg, CallLegSchema, type Cdr, CdrSchema } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import { secondsBetween as seconds } from "../../normalize/duration.js";
import { createHangupCause } from "../../normalize/hangup-cause.js";
import { timestampFromMicros } from "../../normalize/timestamp.js";
import type { TrackedCall } from "./esl-call.js";
import { eslCallStatus } from "./esl-call-status.js";
import type { TrackedLeg } from "./esl-leg.js";
import type { EslNumberPlan } from "./esl-number-plan.js";

/** The caller's answer counts as the call's when it came within this of the callee's (bridge setup). */
const SAME_ANSWER_US = 1_000_000;

/**
 * The messages a call's state turns into. Every CallEvent is a snapshot of the whole call
 * at that moment, so a consumer that sees only one event still has the numbers.
 */
export function buildCallEvent(
  call: TrackedCall,
  kind: CallEventKind,
  atUs: number,
  about: { extension: string; legId: string; transferredTo?: string },
  agentId: string,
  plan: EslNumberPlan,
): CallEvent {
  call.sequence++;
  const event = create(CallEventSchema, {
    eventId: `${call.callId}:${call.sequence}`,
    callId: call.callId,
    sequence: call.sequence,
    kind,
    occurredAt: timestampFromMicros(atUs),
    agentId,
    pbxCallId: call.pbxCallId,
    direction: call.direction(plan),
    fromNumber: call.fromNumber,
    toNumber: call.toNumber,
    callerIdNumber: call.callerIdNumber,
    callerIdName: call.callerIdName,
    extension: about.extension,
    pbxLegId: about.legId,
    transferredTo: about.transferredTo ?? "",
    trunk: call.trunk,
    queue: call.queue,
    startedAt: timestampFromMicros(call.first.startedUs),
    durationSeconds: seconds(call.first.startedUs, atUs),
    variables: call.echoedVariables(),
  });
  if (call.answeredUs !== undefined && call.answeredUs <= atUs) event.answeredAt = timestampFromMicros(call.answeredUs);
  if (kind === CallEventKind.HANGUP && call.endedUs !== undefined) {
    event.endedAt = timestampFromMicros(call.endedUs);
    event.talkSeconds = talkSeconds(call);
    event.status = statusOf(call);
    event.cause = createHangupCause(call.first.q850, decisiveSipCode(call));
  }
  return event;
}

export function buildCdr(call: TrackedCall, agentId: string, plan: EslNumberPlan): Cdr {
  const startedUs = call.first.startedUs;
  const endedUs = call.endedUs ?? startedUs;
  const cdr = create(CdrSchema, {
    id: call.callId,
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
    answeredBy: call.answeredBy,
    rungExtensions: [...call.rung],
    missedExtensions: call.missedExtensions(),
    startedAt: timestampFromMicros(startedUs),
    endedAt: timestampFromMicros(endedUs),
    durationSeconds: seconds(startedUs, endedUs),
    talkSeconds: talkSeconds(call),
    waitSeconds: seconds(startedUs, call.answeredUs ?? endedUs),
    status: statusOf(call),
    cause: createHangupCause(call.first.q850, decisiveSipCode(call)),
    disposition: call.first.causeName,
    variables: call.echoedVariables(),
    transferredTo: call.transferredTo,
    legs: [...call.legs.values()].map(buildLeg),
    pbxKind: PbxKind.FREESWITCH,
  });
  if (call.answeredUs !== undefined) cdr.answeredAt = timestampFromMicros(call.answeredUs);
  return cdr;
}

export function buildLeg(leg: TrackedLeg): CallLeg {
  const endedUs = leg.hungUpUs ?? leg.completedUs;
  const result = create(CallLegSchema, {
    pbxLegId: leg.uuid,
    channel: leg.channel,
    extension: leg.extension,
    trunk: leg.trunk,
    startedAt: timestampFromMicros(leg.startedUs),
    cause: createHangupCause(leg.q850, leg.sipCode),
    dialStatus: leg.role === "first" ? "" : leg.causeName,
  });
  if (leg.answeredUs !== undefined) result.answeredAt = timestampFromMicros(leg.answeredUs);
  if (endedUs !== undefined) result.endedAt = timestampFromMicros(endedUs);
  return result;
}

/** Dialed legs that never answered, in the order they hung up. */
function failedDials(call: TrackedCall): TrackedLeg[] {
  return [...call.legs.values()]
    .filter((leg) => leg.role === "dialed" && leg.answeredUs === undefined)
    .sort((a, b) => (a.hungUpUs ?? a.completedUs ?? 0) - (b.hungUpUs ?? b.completedUs ?? 0));
}

function statusOf(call: TrackedCall): CallStatus {
  const answered = call.answeredUs !== undefined;
  return eslCallStatus({
    answered,
    originateFailed: call.clickToCall && !call.agentAnswered,
    abandonedInQueue: call.queue !== "" && call.queueExit !== "gave_up",
    callerCause: call.first.causeName,
    dialCauses: failedDials(call).map((leg) => leg.causeName),
  });
}

/** The SIP code of the leg that decided: the failed dial when one failed, else the caller's. */
function decisiveSipCode(call: TrackedCall): number {
  if (call.answeredUs === undefined) {
    const failed = failedDials(call)
      .filter((leg) => leg.sipCode !== 0)
      .at(-1);
    if (failed !== undefined) return failed.sipCode;
  }
  if (call.first.sipCode !== 0) return call.first.sipCode;
  for (const leg of call.legs.values()) if (leg.sipCode !== 0 && leg.answeredUs !== undefined) return leg.sipCode;
  return 0;
}

/**
 * Seconds the caller was connected. When the caller's own answer is the call's (a bridge),
 * FreeSWITCH's billsec of the caller's leg is used as is (it counts holds, transfers and
 * parking); when FreeSWITCH answered the caller earlier (queue, IVR) or the first leg is
 * the agent of a click-to-call, talk runs from the answer that counts to the caller's hangup.
 */
function talkSeconds(call: TrackedCall): number {
  const answeredUs = call.answeredUs;
  if (answeredUs === undefined || call.endedUs === undefined) return 0;
  const first = call.first;
  if (!call.clickToCall && first.answeredUs !== undefined && first.answeredUs >= answeredUs - SAME_ANSWER_US) {
    if (first.billsec !== undefined) return first.billsec;
  }
  return seconds(answeredUs, first.hungUpUs ?? call.endedUs);
}
