import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CallStatus } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import { type CallOutcomeFacts, callStatusOf } from "./ami-call-status.js";

const facts = (overrides: Partial<CallOutcomeFacts>): CallOutcomeFacts => ({
  answered: false,
  originateFailed: false,
  abandoned: false,
  dialStatus: "",
  q850Code: 16,
  ...overrides,
});

describe("call status", { timeout: 5000 }, () => {
  // The outcomes the real captures were designed to have (expected-ast-real-A.json).
  const cases: [string, Partial<CallOutcomeFacts>, CallStatus][] = [
    ["answered", { answered: true, dialStatus: "ANSWER" }, CallStatus.SUCCESS],
    ["486", { dialStatus: "BUSY", q850Code: 17 }, CallStatus.BUSY],
    ["ring-out", { dialStatus: "NOANSWER", q850Code: 16 }, CallStatus.UNAVAILABLE],
    ["603 decline", { dialStatus: "CHANUNAVAIL", q850Code: 21 }, CallStatus.REJECTED],
    ["603 seen only on DialEnd", { dialStatus: "NOANSWER", q850Code: 21 }, CallStatus.REJECTED],
    ["caller CANCEL", { dialStatus: "CANCEL", q850Code: 127 }, CallStatus.CANCELLED],
    ["404 unallocated", { dialStatus: "CHANUNAVAIL", q850Code: 1 }, CallStatus.FAILED],
    ["congestion", { dialStatus: "CONGESTION", q850Code: 34 }, CallStatus.FAILED],
    ["unreachable endpoint", { dialStatus: "CHANUNAVAIL", q850Code: 20 }, CallStatus.UNAVAILABLE],
    [
      "click-to-call agent never answered",
      { originateFailed: true, dialStatus: "CANCEL", q850Code: 19 },
      CallStatus.FAILED,
    ],
    ["hung up before any dial", { q850Code: 16 }, CallStatus.CANCELLED],
    ["queue caller gave up (13m)", { abandoned: true, dialStatus: "CANCEL", q850Code: 0 }, CallStatus.ABANDONED],
    ["answered after waiting in a queue", { abandoned: true, answered: true }, CallStatus.SUCCESS],
  ];
  for (const [name, overrides, status] of cases) {
    it(name, () => assert.equal(callStatusOf(facts(overrides)), status));
  }
});
