import { CallStatus } from "@callmesh/gen/callmesh/events/v1/call_pb.js";

/** What the status of an ended call is computed from; the raw causes stay on the Cdr. */
export interface EslOutcomeFacts {
  answered: boolean;
  /** A click-to-call whose first leg (the agent's own phone) never answered. */
  originateFailed: boolean;
  /** The caller left a queue (mod_callcenter) before an agent answered. */
  abandonedInQueue: boolean;
  /** `Hangup-Cause` of the call's first leg. */
  callerCause: string;
  /** `Hangup-Cause` of each dialed leg that did not answer, in the order they ended. */
  dialCauses: readonly string[];
}

/** Causes of a dialed leg that say nothing about the callee: the call ended elsewhere. */
const NOT_DECISIVE = new Set([
  "",
  "NONE",
  "NORMAL_CLEARING",
  "SUCCESS",
  "LOSE_RACE",
  "ORIGINATOR_CANCEL",
  "MANAGER_REQUEST",
]);

/**
 * The computed status. FreeSWITCH's cause names are read, not `hangup_cause_q850`, which
 * folds ORIGINATOR_CANCEL (the caller gave up) and LOSE_RACE (another phone answered)
 * into 16. The last dialed leg that failed for a reason of its own (busy, no answer,
 * declined) decides; a caller leg that went on to voicemail or an IVR does not turn a
 * missed call into an answered one.
 */
export function eslCallStatus(facts: EslOutcomeFacts): CallStatus {
  if (facts.answered) return CallStatus.SUCCESS;
  if (facts.originateFailed) return CallStatus.FAILED;
  if (facts.abandonedInQueue) return CallStatus.ABANDONED;
  if (facts.callerCause === "ORIGINATOR_CANCEL") return CallStatus.CANCELLED;
  const decisive = facts.dialCauses.filter((cause) => !NOT_DECISIVE.has(cause)).at(-1);
  return statusOfCause(decisive ?? facts.callerCause);
}

function statusOfCause(cause: string): CallStatus {
  switch (cause) {
    case "USER_BUSY":
    case "BUSY_EVERYWHERE":
      return CallStatus.BUSY;
    case "NO_ANSWER":
    case "NO_USER_RESPONSE":
    case "SUBSCRIBER_ABSENT":
    case "USER_NOT_REGISTERED":
    case "ALLOTTED_TIMEOUT":
    case "PROGRESS_TIMEOUT":
    case "RECOVERY_ON_TIMER_EXPIRE":
    case "NO_PICKUP":
      return CallStatus.UNAVAILABLE;
    case "CALL_REJECTED":
    case "DECLINE":
    case "REJECT_ALL":
    case "UNWANTED":
    case "OUTGOING_CALL_BARRED":
    case "INCOMING_CALL_BARRED":
      return CallStatus.REJECTED;
    case "":
    case "NONE":
    case "NORMAL_CLEARING":
    case "NORMAL_UNSPECIFIED":
    case "SUCCESS":
    case "LOSE_RACE":
    case "ORIGINATOR_CANCEL":
    case "MANAGER_REQUEST":
      // Nobody was reached and nothing failed: the caller left (an IVR, a ring that ended).
      return CallStatus.CANCELLED;
    default:
      return CallStatus.FAILED;
  }
}
