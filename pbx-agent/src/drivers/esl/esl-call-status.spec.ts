import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CallStatus } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import { type EslOutcomeFacts, eslCallStatus } from "./esl-call-status.js";
import { q850OfCause } from "./esl-hangup-cause.js";

const facts = (fields: Partial<EslOutcomeFacts>): EslOutcomeFacts => ({
  answered: false,
  originateFailed: false,
  abandonedInQueue: false,
  callerCause: "NORMAL_CLEARING",
  dialCauses: [],
  ...fields,
});

describe("ESL call status", () => {
  it("reads cause names, not hangup_cause_q850 (ORIGINATOR_CANCEL and LOSE_RACE are both 16 there)", () => {
    assert.equal(
      eslCallStatus(facts({ callerCause: "ORIGINATOR_CANCEL", dialCauses: ["ORIGINATOR_CANCEL"] })),
      CallStatus.CANCELLED,
    );
    assert.equal(eslCallStatus(facts({ dialCauses: ["NO_ANSWER"] })), CallStatus.UNAVAILABLE);
    assert.equal(eslCallStatus(facts({ dialCauses: ["USER_BUSY"], callerCause: "USER_BUSY" })), CallStatus.BUSY);
    assert.equal(eslCallStatus(facts({ dialCauses: ["CALL_REJECTED"] })), CallStatus.REJECTED);
    assert.equal(eslCallStatus(facts({ dialCauses: ["UNALLOCATED_NUMBER"] })), CallStatus.FAILED);
    assert.equal(eslCallStatus(facts({ dialCauses: ["NORMAL_CIRCUIT_CONGESTION"] })), CallStatus.FAILED);
    assert.equal(q850OfCause("ORIGINATOR_CANCEL"), 16);
    assert.equal(q850OfCause("LOSE_RACE"), 16);
    assert.equal(q850OfCause("NORMAL_TEMPORARY_FAILURE"), 41);
    assert.equal(q850OfCause(""), 0);
  });

  it("the last dial that failed for a reason of its own decides; lost races do not", () => {
    assert.equal(eslCallStatus(facts({ dialCauses: ["NO_ANSWER", "USER_BUSY"] })), CallStatus.BUSY);
    assert.equal(eslCallStatus(facts({ dialCauses: ["NO_ANSWER", "LOSE_RACE"] })), CallStatus.UNAVAILABLE);
  });

  it("answered beats everything; a click-to-call the agent never picked up failed; a queue left early is abandoned", () => {
    assert.equal(eslCallStatus(facts({ answered: true, dialCauses: ["NO_ANSWER"] })), CallStatus.SUCCESS);
    assert.equal(eslCallStatus(facts({ originateFailed: true, callerCause: "NO_ANSWER" })), CallStatus.FAILED);
    assert.equal(eslCallStatus(facts({ abandonedInQueue: true, dialCauses: ["NO_ANSWER"] })), CallStatus.ABANDONED);
  });
});
