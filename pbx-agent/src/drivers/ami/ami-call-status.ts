import { CallStatus } from "@callmesh/gen/callmesh/events/v1/call_pb.js";

/** What the status of an ended call is computed from; the raw values stay on the Cdr. */
export interface CallOutcomeFacts {
  answered: boolean;
  /** A click-to-call whose first leg (the agent's own phone) never answered. */
  originateFailed: boolean;
  /** The caller hung up waiting in a queue (QueueCallerAbandon). */
  abandoned: boolean;
  /** DialStatus of the last dial that did not connect (BUSY, NOANSWER, CANCEL, CHANUNAVAIL…), "" if none. */
  dialStatus: string;
  /** Q.850 cause of the call's originating channel. */
  q850Code: number;
}

/**
 * The computed status. The dial status says who ended the attempt (486 → BUSY, the
 * caller's CANCEL → CANCEL); NOANSWER and CHANUNAVAIL are vague (Asterisk 20 reports a
 * 603 decline and a 404 both as NOANSWER on DialEnd and CHANUNAVAIL in DIALSTATUS), so
 * a specific Q.850 cause refines them: 21 → rejected, 1 → failed. Per-tenant and
 * per-carrier overrides (requirement S1) belong to the CDR service, which keeps the raw
 * cause beside this value.
 */
export function callStatusOf(facts: CallOutcomeFacts): CallStatus {
  if (facts.answered) return CallStatus.SUCCESS;
  if (facts.originateFailed) return CallStatus.FAILED;
  if (facts.abandoned) return CallStatus.ABANDONED;
  switch (facts.dialStatus) {
    case "BUSY":
      return CallStatus.BUSY;
    case "CANCEL":
      return CallStatus.CANCELLED;
    case "CONGESTION":
      return CallStatus.FAILED;
    case "NOANSWER":
    case "CHANUNAVAIL":
      return statusOfCause(facts.q850Code, CallStatus.UNAVAILABLE);
    default:
      // No dial ended the call (it never dialed, or the caller left first).
      return statusOfCause(facts.q850Code, CallStatus.CANCELLED);
  }
}

/** `normal` is what a cause that says nothing specific (0, 16, 127) means here. */
function statusOfCause(q850Code: number, normal: CallStatus): CallStatus {
  switch (q850Code) {
    case 0:
    case 16:
    case 31:
    case 127:
      return normal;
    case 17:
      return CallStatus.BUSY;
    case 21:
      return CallStatus.REJECTED;
    case 18:
    case 19:
    case 20:
      return CallStatus.UNAVAILABLE;
    default:
      return CallStatus.FAILED;
  }
}
