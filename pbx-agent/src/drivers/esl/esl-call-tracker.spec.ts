import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { CallDirection } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import type { CallOutput } from "../../ports/pbx-driver.js";
import { createEslCallTracker } from "./esl-call-tracker.js";
import { cdrsOf, readEslCapture, replayEsl } from "./esl-capture-fixture.js";
import { EslEvent } from "./esl-event.js";
import { createEslNormalizer } from "./esl-normalizer.js";
import type { EslNumberPlanOptions } from "./esl-number-plan.js";

function eventsOf(outputs: CallOutput[]): [string, string][] {
  return outputs.flatMap((output) =>
    output.kind === "event" ? [[CallEventKind[output.event.kind], output.event.extension] as [string, string]] : [],
  );
}

function replayWith(file: string, plan: EslNumberPlanOptions): CallOutput[] {
  const outputs: CallOutput[] = [];
  const normalizer = createEslNormalizer({ agentId: "a", onOutput: (output) => outputs.push(output), ...plan });
  normalizer.push(readEslCapture(file));
  normalizer.end();
  return outputs;
}

describe("ESL call tracker", () => {
  it("blind transfer: no transfer event from FreeSWITCH, one TRANSFERRED from UNBRIDGE → bridge → BRIDGE", () => {
    assert.deepEqual(eventsOf(replayEsl([readEslCapture("fs-real-14n-blind-transfer-A.txt")])), [
      ["RINGING", "1001"],
      ["ANSWERED", "1001"],
      ["RINGING", "1002"],
      ["TRANSFERRED", "1002"],
      ["HANGUP", "1002"],
    ]);
  });

  it("attended transfer: the consultation bridge is no transfer; the HANGUP names the agent the caller ended with", () => {
    assert.deepEqual(eventsOf(replayEsl([readEslCapture("fs-real-15o-attended-transfer-A.txt")])), [
      ["RINGING", "1001"],
      ["ANSWERED", "1001"],
      ["RINGING", "1003"],
      ["TRANSFERRED", "1003"],
      ["HANGUP", "1003"],
    ]);
  });

  it("hold and resume", () => {
    assert.deepEqual(eventsOf(replayEsl([readEslCapture("fs-real-18r-hold-resume-A.txt")])), [
      ["RINGING", "1002"],
      ["ANSWERED", "1002"],
      ["HELD", "1001"],
      ["RESUMED", "1001"],
      ["HANGUP", "1002"],
    ]);
  });

  it("click-to-call: the same events from event plain and event json", () => {
    const plain = eventsOf(replayEsl([readEslCapture("fs-real-16p-click-to-call-A.txt")]));
    assert.deepEqual(plain, [
      ["ORIGINATE", "1001"],
      ["RINGING", "1001"],
      ["RINGING", "0035799123456"],
      ["ANSWERED", "0035799123456"],
      ["HANGUP", "1001"],
    ]);
    assert.deepEqual(eventsOf(replayEsl([readEslCapture("fs-real-16p-click-to-call-A-json.txt")])), plain);
  });

  it("a ring group's Cdr nests every leg with its own outcome", () => {
    const [cdr] = cdrsOf(replayEsl([readEslCapture("fs-real-11k-ringgroup-answered-A.txt")]));
    assert.equal(cdr?.legs.length, 13);
    assert.equal(cdr?.legs[0]?.dialStatus, "");
    assert.equal(cdr?.legs[0]?.channel, "sofia/external/+35799123456@127.0.0.1:5070");
    const dialStatus = new Map(cdr?.legs.slice(1).map((leg) => [leg.extension, leg.dialStatus]));
    assert.equal(dialStatus.get("1007"), "NORMAL_CLEARING");
    assert.equal([...dialStatus.values()].filter((status) => status === "LOSE_RACE").length, 11);
    assert.ok(cdr?.legs.every((leg) => leg.pbxLegId !== "" && leg.endedAt !== undefined));
  });

  it("events name the leg they are about", () => {
    const outputs = replayEsl([readEslCapture("fs-real-01a-inbound-answered-A.txt")]);
    const [cdr] = cdrsOf(outputs);
    const phoneLeg = cdr?.legs.find((leg) => leg.extension === "1001")?.pbxLegId;
    const answered = outputs.find((output) => output.kind === "event" && output.event.kind === CallEventKind.ANSWERED);
    assert.equal(answered?.kind === "event" ? answered.event.pbxLegId : "", phoneLeg);
  });

  it("direction comes from the PBX's trunks, configurable: a trunk context alone still makes a call inbound", () => {
    const byContext = cdrsOf(
      replayWith("fs-real-01a-inbound-answered-A.txt", { trunkProfiles: [], trunkContexts: ["public"] }),
    );
    assert.equal(byContext[0]?.direction, CallDirection.INBOUND);
    const noTrunks = cdrsOf(replayWith("fs-real-01a-inbound-answered-A.txt", { trunkProfiles: [], trunkContexts: [] }));
    assert.equal(noTrunks[0]?.direction, CallDirection.INTERNAL);
    const otherGateway = cdrsOf(
      replayWith("fs-real-06f-outbound-answered-A.txt", { trunkProfiles: [], trunkGateways: ["carrier2"] }),
    );
    assert.equal(otherGateway[0]?.direction, CallDirection.INTERNAL);
    const ourGateway = cdrsOf(
      replayWith("fs-real-06f-outbound-answered-A.txt", { trunkProfiles: [], trunkGateways: ["provider"] }),
    );
    assert.equal(ourGateway[0]?.direction, CallDirection.OUTBOUND);
    assert.equal(ourGateway[0]?.trunk, "provider");
  });

  it("the driver's click-to-call is known at the first CHANNEL_CREATE by its callmesh_call_id", () => {
    const outputs: CallOutput[] = [];
    const tracker = createEslCallTracker({ agentId: "a", onOutput: (output) => outputs.push(output) });
    tracker.expectOriginate({ callId: "call-7", extension: "1001", destination: "1002", variables: { crm_id: "r-1" } });
    tracker.handle(
      EslEvent.fromPlain(
        [
          "Event-Name: CHANNEL_CREATE",
          "Event-Date-Timestamp: 1796126710680701",
          "Unique-ID: 0b5e1f6e-0000-4000-8000-000000000001",
          "Channel-Name: sofia/internal/1001%40127.0.0.1",
          "Call-Direction: outbound",
          "variable_callmesh_call_id: call-7",
          "variable_crm_id: r-1",
          "",
        ].join("\n"),
      ),
    );
    assert.deepEqual(
      outputs.map((output) =>
        output.kind === "event"
          ? [output.event.callId, CallEventKind[output.event.kind], output.event.toNumber, output.event.variables]
          : [],
      ),
      [
        ["call-7", "ORIGINATE", "1002", { crm_id: "r-1" }],
        ["call-7", "RINGING", "1002", { crm_id: "r-1" }],
      ],
    );
    assert.equal(
      outputs.length === 2 && outputs[0]?.kind === "event" && outputs[0].event.direction,
      CallDirection.INTERNAL,
    );
  });

  it("loopback halves tie a phone behind them to the call and never answer it themselves", () => {
    const outputs: CallOutput[] = [];
    const tracker = createEslCallTracker({ agentId: "a", onOutput: (output) => outputs.push(output) });
    let at = 1796200000000000;
    const event = (name: string, uuid: string, lines: string[] = []) => {
      at += 1000;
      const text = [`Event-Name: ${name}`, `Event-Date-Timestamp: ${at}`, `Unique-ID: ${uuid}`, ...lines, ""].join(
        "\n",
      );
      tracker.handle(EslEvent.fromPlain(text));
    };
    const caller = [
      "Channel-Name: sofia/external/%2B35799123456%40x",
      "Call-Direction: inbound",
      "Caller-Context: public",
      "Caller-Caller-ID-Number: %2B35799123456",
      "Caller-Destination-Number: 35722555101",
    ];
    event("CHANNEL_CREATE", "c", caller);
    event("CHANNEL_CREATE", "la", [
      "Channel-Name: loopback/1001-a",
      "Call-Direction: outbound",
      "Other-Leg-Unique-ID: c",
    ]);
    event("CHANNEL_CREATE", "lb", [
      "Channel-Name: loopback/1001-b",
      "Call-Direction: inbound",
      "variable_other_loopback_leg_uuid: la",
    ]);
    event("CHANNEL_CREATE", "p", [
      "Channel-Name: sofia/internal/1001%40x",
      "Call-Direction: outbound",
      "Other-Leg-Unique-ID: lb",
      "variable_dialed_user: 1001",
    ]);
    event("CHANNEL_ANSWER", "lb");
    event("CHANNEL_ANSWER", "la");
    event("CHANNEL_ANSWER", "p");
    event("CHANNEL_ANSWER", "c");
    for (const uuid of ["p", "lb", "la", "c"])
      event("CHANNEL_HANGUP_COMPLETE", uuid, ["Hangup-Cause: NORMAL_CLEARING"]);
    assert.deepEqual(eventsOf(outputs), [
      ["RINGING", "1001"],
      ["ANSWERED", "1001"],
      ["HANGUP", "1001"],
    ]);
    const [cdr] = cdrsOf(outputs);
    assert.equal(cdr?.legs.length, 4);
    assert.equal(cdr?.direction, CallDirection.INBOUND);
    assert.equal(cdr?.answeredBy, "1001");
  });
});
