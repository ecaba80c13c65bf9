import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import type { CallOutput } from "../../ports/pbx-driver.js";
import { type AmiCallTracker, createAmiCallTracker } from "./ami-call-tracker.js";
import { readCapture } from "./ami-capture-fixture.js";
import { AmiMessage } from "./ami-message.js";
import { createAmiParser } from "./ami-parser.js";

function messagesOf(file: string): AmiMessage[] {
  const messages: AmiMessage[] = [];
  createAmiParser({ onMessage: (message) => messages.push(message) }).push(readCapture(file));
  return messages;
}

function tracker(): { tracker: AmiCallTracker; outputs: CallOutput[] } {
  const outputs: CallOutput[] = [];
  return {
    outputs,
    tracker: createAmiCallTracker({ agentId: "agent-7", onOutput: (output) => outputs.push(output), cdrGraceMs: 0 }),
  };
}

const eventsOf = (outputs: CallOutput[]) =>
  outputs.flatMap((output) =>
    output.kind === "event" ? [[CallEventKind[output.event.kind], output.event.extension]] : [],
  );

/** A CoreShowChannel item as Asterisk 20 lists it (manager.c action_coreshowchannels). */
function item(fields: {
  channel: string;
  uniqueid: string;
  linkedid: string;
  state: "4" | "6";
  context?: string;
  exten?: string;
  application?: string;
  data?: string;
}): AmiMessage {
  return AmiMessage.fromPairs([
    ["Event", "CoreShowChannel"],
    ["Channel", fields.channel],
    ["ChannelState", fields.state],
    ["ChannelStateDesc", fields.state === "6" ? "Up" : "Ring"],
    ["CallerIDNum", "+35799123456"],
    ["CallerIDName", "John Customer"],
    ["Context", fields.context ?? "from-internal"],
    ["Exten", fields.exten ?? "s"],
    ["Uniqueid", fields.uniqueid],
    ["Linkedid", fields.linkedid],
    ["Application", fields.application ?? "Dial"],
    ["ApplicationData", fields.data ?? ""],
    ["Duration", "00:00:03"],
  ]);
}

describe("AMI reconcile of calls the tracker kept across a reconnect", () => {
  // ast-real-01a while 1001 rings: cut at its channel going Up.
  const messages = messagesOf("ast-real-01a-inbound-answered-A.txt");
  const ringing = messages.slice(
    0,
    messages.findIndex((message) => message.event === "Newstate" && message.get("ChannelState") === "6"),
  );
  const caller = item({
    channel: "PJSIP/provider-00000042",
    uniqueid: "1796125061.82",
    linkedid: "1796125061.82",
    state: "6",
    context: "ext-local",
    exten: "1001",
  });

  it("a phone that joined the call while nobody listened, and is up, rang and answered it", () => {
    const { tracker: calls, outputs } = tracker();
    for (const message of ringing) calls.handle(message);
    // 1001 gave up meanwhile; the call went on to 1002, who answered.
    const atUs = Date.now() * 1000;
    const next = item({
      channel: "PJSIP/1002-00000044",
      uniqueid: "1796125061.84",
      linkedid: "1796125061.82",
      state: "6",
    });
    assert.deepEqual(calls.reconcile([caller, next], atUs), { ended: 0, recovered: 0 });
    assert.deepEqual(eventsOf(outputs), [
      ["RINGING", "1001"],
      ["RINGING", "1002"],
      ["ANSWERED", "1002"],
    ]);
    const [call] = calls.liveCalls();
    assert.equal(call?.answeredUs, atUs, "answered when the agent saw it up");
    assert.deepEqual(call?.missedExtensions(), ["1001"]);
  });

  it("a call that was ringing and is still only ringing gets nothing", () => {
    const { tracker: calls, outputs } = tracker();
    for (const message of ringing) calls.handle(message);
    const still = item({
      channel: "PJSIP/1001-00000043",
      uniqueid: "1796125061.83",
      linkedid: "1796125061.82",
      state: "4",
    });
    calls.reconcile([caller, still], Date.now() * 1000);
    assert.deepEqual(eventsOf(outputs), [["RINGING", "1001"]]);
  });
});

describe("AMI reconcile of a supervisor's ChanSpy after an agent restart", () => {
  it("a ChanSpy carrying a CALLMESH_CALL_ID is that spy_call_id's session again, out of ListCalls and the CRM", () => {
    const spyCallId = "5f0c7e2a-2b1d-4c8e-9a47-0d3e6b1f8c21";
    const { tracker: calls, outputs } = tracker();
    // ast-real-19s while 1005 listens: the spied call and the supervisor's three channels.
    const spied = "1796125024.72";
    const spy = "1796125027.74";
    const items = [
      item({ channel: "PJSIP/provider-0000003a", uniqueid: spied, linkedid: spied, state: "6", context: "ext-local" }),
      item({ channel: "PJSIP/1001-0000003b", uniqueid: "1796125024.73", linkedid: spied, state: "6" }),
      item({
        channel: "Local/1005@from-internal-00000007;1",
        uniqueid: spy,
        linkedid: spy,
        state: "6",
        application: "ChanSpy",
        data: "PJSIP/1001,q",
      }),
      item({ channel: "Local/1005@from-internal-00000007;2", uniqueid: "1796125027.75", linkedid: spy, state: "6" }),
      item({ channel: "PJSIP/1005-0000003c", uniqueid: "1796125027.76", linkedid: spy, state: "6" }),
    ];
    assert.deepEqual(calls.reconcile(items, Date.now() * 1000, new Map([[spy, spyCallId]])), {
      ended: 0,
      recovered: 2,
    });
    assert.equal(calls.findSpySession(spyCallId)?.call?.linkedid, spy);
    assert.deepEqual(
      calls.liveCalls().map((call) => call.linkedid),
      [spied],
    );
    // The supervisor hangs up, then the caller: the customer call alone is reported.
    for (const message of messagesOf("ast-real-19s-chanspy-A.txt")) {
      if (message.event === "Hangup") calls.handle(message);
    }
    calls.flush();
    assert.equal(calls.findSpySession(spyCallId), undefined, "forgotten at its end");
    const reported = new Set(
      outputs.map((output) => (output.kind === "event" ? output.event.callId : output.cdr.callId)),
    );
    assert.equal(reported.size, 1);
    assert.ok(![...reported].includes(spyCallId));
    assert.equal(outputs.filter((output) => output.kind === "cdr").length, 1);
  });
});
