import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CallEvent, CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { CallDirection, CallStatus } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import type { Cdr } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import type { CallOutput } from "../../ports/pbx-driver.js";
import { type AmiCallTrackerOptions, createAmiCallTracker } from "./ami-call-tracker.js";
import { randomChunks, readCapture, readFixtureJson } from "./ami-capture-fixture.js";
import { AmiMessage } from "./ami-message.js";
import { assertCallMatches, assertWellFormed, type ExpectedCall } from "./ami-output-assertions.js";
import { createAmiParser } from "./ami-parser.js";

const expected = readFixtureJson("expected-ast-real-A.json") as {
  captures: { file: string; calls: ExpectedCall[] }[];
};

function expectedCallsOf(file: string): ExpectedCall[] {
  const capture = expected.captures.find((entry) => entry.file === file);
  assert.ok(capture, `${file} in expected-ast-real-A.json`);
  return capture.calls;
}

function messagesOf(file: string): AmiMessage[] {
  const messages: AmiMessage[] = [];
  const parser = createAmiParser({ onMessage: (message) => messages.push(message) });
  parser.push(readCapture(file));
  return messages;
}

interface Replay {
  outputs: CallOutput[];
  events: CallEvent[];
  cdrs: Cdr[];
  tracker: ReturnType<typeof createAmiCallTracker>;
}

function replay(
  input: Iterable<AmiMessage>,
  options: Partial<AmiCallTrackerOptions> = {},
  before?: (tracker: Replay["tracker"]) => void,
): Replay {
  const outputs: CallOutput[] = [];
  const tracker = createAmiCallTracker({ agentId: "agent-7", onOutput: (output) => outputs.push(output), ...options });
  before?.(tracker);
  for (const message of input) tracker.handle(message);
  tracker.flush();
  return {
    outputs,
    tracker,
    events: outputs.flatMap((output) => (output.kind === "event" ? [output.event] : [])),
    cdrs: outputs.flatMap((output) => (output.kind === "cdr" ? [output.cdr] : [])),
  };
}

/** Every ast-real capture, each with its designed outcome. */
const SCENARIOS = expected.captures.map((capture) => capture.file);

describe("AMI call tracker", { timeout: 10_000 }, () => {
  describe("replays of real Asterisk 20 calls match their designed outcome", () => {
    for (const file of SCENARIOS) {
      it(file, () => {
        const result = replay(messagesOf(file));
        assertWellFormed(result.outputs, "agent-7");
        const calls = expectedCallsOf(file);
        assert.equal(result.cdrs.length, calls.length, "one Cdr per real call");
        calls.forEach((call, index) => {
          const cdr = result.cdrs[index];
          const hangup = result.events.find((e) => e.kind === CallEventKind.HANGUP && e.callId === cdr?.callId);
          assertCallMatches(cdr, hangup, call);
        });
      });
    }
  });

  it("gives the same output when the bytes arrive in random chunks", () => {
    for (const file of ["ast-real-01a-inbound-answered-A.txt", "ast-real-16p-click-to-call-A.txt"]) {
      const whole = replay(messagesOf(file)).outputs;
      const messages: AmiMessage[] = [];
      const parser = createAmiParser({ onMessage: (message) => messages.push(message) });
      for (const chunk of randomChunks(readCapture(file), 99, 61)) parser.push(chunk);
      assert.deepEqual(replay(messages).outputs, whole);
    }
  });

  it("emits what each kind of call is made of", () => {
    const kinds = (file: string) => replay(messagesOf(file)).events.map((event) => CallEventKind[event.kind]);
    assert.deepEqual(kinds("ast-real-01a-inbound-answered-A.txt"), ["RINGING", "ANSWERED", "HANGUP"]);
    assert.deepEqual(kinds("ast-real-06f-outbound-answered-A.txt"), ["RINGING", "ANSWERED", "HANGUP"]);
    assert.deepEqual(kinds("ast-real-07g-outbound-busy-A.txt"), ["RINGING", "HANGUP"]);
    assert.deepEqual(kinds("ast-real-09i-internal-answered-A.txt"), ["RINGING", "ANSWERED", "HANGUP"]);
    assert.deepEqual(kinds("ast-real-16p-click-to-call-A.txt"), [
      "ORIGINATE",
      "RINGING",
      "RINGING",
      "ANSWERED",
      "HANGUP",
    ]);
  });

  describe("call shapes, event by event", () => {
    const events = (file: string) =>
      replay(messagesOf(file)).events.map((e) => ({
        kind: CallEventKind[e.kind],
        extension: e.extension,
        leg: e.pbxLegId,
        to: e.transferredTo,
        at: e.occurredAt?.seconds,
      }));

    it("outbound: the trunk leg rings and answers as the number it dialed, like ESL (06f)", () => {
      const result = replay(messagesOf("ast-real-06f-outbound-answered-A.txt"));
      assert.deepEqual(
        result.events.map((e) => [CallEventKind[e.kind], e.extension, e.pbxLegId]),
        [
          ["RINGING", "0035799123456", "1796124874.19"],
          ["ANSWERED", "0035799123456", "1796124874.19"],
          ["HANGUP", "1001", "1796124874.18"],
        ],
      );
      assert.equal(result.cdrs[0]?.answeredBy, "", "the far end is nobody's extension");
      assert.deepEqual(result.cdrs[0]?.rungExtensions, [], "a dialed number is not a rung extension");
    });

    it("outbound busy and unallocated: the trunk leg rang although it failed (07g, 08h)", () => {
      for (const [file, number] of [
        ["ast-real-07g-outbound-busy-A.txt", "0035799123456"],
        ["ast-real-08h-outbound-unallocated-A.txt", "0035799000000"],
      ] as const) {
        const result = replay(messagesOf(file));
        assert.deepEqual(
          result.events.map((e) => [CallEventKind[e.kind], e.extension]),
          [
            ["RINGING", number],
            ["HANGUP", "1001"],
          ],
          file,
        );
        assert.deepEqual(result.cdrs[0]?.missedExtensions, [], `${file}: a dialed number is not missed`);
      }
    });

    it("click-to-call: the agent's phone rings, then the trunk leg rings and answers (16p)", () => {
      assert.deepEqual(
        events("ast-real-16p-click-to-call-A.txt").map((e) => [e.kind, e.extension, e.leg]),
        [
          ["ORIGINATE", "1001", "1796124988.63"],
          ["RINGING", "1001", "1796124988.65"],
          ["RINGING", "0035799123456", "1796124990.66"],
          ["ANSWERED", "0035799123456", "1796124990.66"],
          ["HANGUP", "1001", "1796124988.63"],
        ],
      );
    });

    it("ring group: one call, every phone rang once, credited to who answered (11k)", () => {
      const result = replay(messagesOf("ast-real-11k-ringgroup-answered-A.txt"));
      const kinds = result.events.map((e) => CallEventKind[e.kind]);
      assert.deepEqual(kinds, [...Array(12).fill("RINGING"), "ANSWERED", "HANGUP"]);
      assert.equal(result.events[12]?.extension, "1007");
      assert.equal(result.events[12]?.pbxLegId, "1796124918.35", "the leg of the phone that answered");
      const legs = result.cdrs[0]?.legs ?? [];
      assert.equal(legs.length, 13, "the caller and the 12 phones, nested in the one Cdr");
      assert.deepEqual(
        legs.filter((leg) => leg.cause?.q850Code === 26).map((leg) => leg.extension),
        ["1001", "1002", "1003", "1004", "1005", "1006", "1008", "1009", "1010", "1011", "1012"],
        "the losers were answered elsewhere",
      );
      assert.equal(legs[0]?.trunk, "provider");
      assert.equal(legs.find((leg) => leg.extension === "1007")?.dialStatus, "ANSWER");
      assert.equal(legs.find((leg) => leg.extension === "1001")?.dialStatus, "CANCEL");
    });

    it("queue: abandoned while members rang (13m)", () => {
      const cdr = replay(messagesOf("ast-real-13m-queue-abandoned-A.txt")).cdrs[0];
      assert.equal(cdr?.status, CallStatus.ABANDONED);
      assert.equal(cdr?.queue, "support");
      assert.equal(cdr?.answeredAt, undefined, "the caller channel was Answer()ed by the queue, not by an agent");
    });

    it("blind transfer: TRANSFERRED to 1002, then 1002 rings; the Unhold without Hold resumes nothing (14n)", () => {
      assert.deepEqual(
        events("ast-real-14n-blind-transfer-A.txt").map((e) => [e.kind, e.extension, e.to]),
        [
          ["RINGING", "1001", ""],
          ["ANSWERED", "1001", ""],
          ["TRANSFERRED", "1001", "1002"],
          ["RINGING", "1002", "1002"],
          ["HANGUP", "1002", "1002"],
        ],
      );
    });

    it("a transfer without a transfer event (AMI Redirect): 14n without its BlindTransfer", () => {
      const redirected = messagesOf("ast-real-14n-blind-transfer-A.txt").filter((m) => m.event !== "BlindTransfer");
      const result = replay(redirected);
      assertWellFormed(result.outputs, "agent-7");
      assert.deepEqual(
        result.events.map((e) => [CallEventKind[e.kind], e.extension, e.transferredTo]),
        [
          ["RINGING", "1001", ""],
          ["ANSWERED", "1001", ""],
          ["TRANSFERRED", "1001", "1002"],
          ["RINGING", "1002", "1002"],
          ["HANGUP", "1002", "1002"],
        ],
      );
      assert.equal(result.cdrs[0]?.transferredTo, "1002");
      assert.equal(result.cdrs[0]?.answeredBy, "1001");
    });

    it("attended transfer: the end comes at the real end, answered by the first agent, handed to the target (15o)", () => {
      const list = events("ast-real-15o-attended-transfer-A.txt");
      assert.deepEqual(
        list.map((e) => [e.kind, e.extension, e.to]),
        [
          ["RINGING", "1001", ""],
          ["ANSWERED", "1001", ""],
          ["HELD", "1001", ""],
          ["RINGING", "1003", ""],
          ["TRANSFERRED", "1001", "1003"],
          ["HANGUP", "1003", "1003"],
        ],
      );
      const transferred = list.find((e) => e.kind === "TRANSFERRED");
      const hangup = list.at(-1);
      assert.ok(transferred?.at !== undefined && hangup?.at !== undefined && hangup.at - transferred.at >= 5n);
      const cdr = replay(messagesOf("ast-real-15o-attended-transfer-A.txt")).cdrs[0];
      assert.equal(cdr?.answeredBy, "1001");
      assert.equal(cdr?.transferredTo, "1003");
    });

    it("hold and resume, on the leg that held (18r)", () => {
      const list = events("ast-real-18r-hold-resume-A.txt").filter((e) => e.kind === "HELD" || e.kind === "RESUMED");
      assert.deepEqual(
        list.map((e) => [e.kind, e.extension, e.leg]),
        [
          ["HELD", "1001", "1796125011.70"],
          ["RESUMED", "1001", "1796125011.70"],
        ],
      );
      assert.equal((list[1]?.at ?? 0n) - (list[0]?.at ?? 0n), 4n);
    });

    it("park and pickup: held, then handed to the extension that picked it up (21u)", () => {
      const result = replay(messagesOf("ast-real-21u-park-pickup-A.txt"));
      assert.deepEqual(
        result.events.map((e) => [CallEventKind[e.kind], e.extension, e.transferredTo]),
        [
          ["RINGING", "1001", ""],
          ["ANSWERED", "1001", ""],
          ["HELD", "1001", ""],
          ["TRANSFERRED", "1001", "1002"],
          ["HANGUP", "1002", "1002"],
        ],
      );
      assert.ok(
        result.cdrs[0]?.legs.some((leg) => leg.extension === "1002"),
        "1002's channel, started as its own call to 701, joined this one",
      );
      assert.equal(result.tracker.stats.callsMerged, 1);
    });

    it("ChanSpy: the supervisor's own Originate is not a customer call and emits nothing at all (19s)", () => {
      // Decision: an Originate nobody announced holds its output back until it shows it is a
      // customer call (it dials a second party); ChanSpyStart or an OriginateResponse naming
      // ChanSpy marks it supervision, and at its end its held output is dropped, Cdr included.
      const result = replay(messagesOf("ast-real-19s-chanspy-A.txt"));
      assert.equal(result.cdrs.length, 1);
      assert.ok(
        result.outputs.every((o) => (o.kind === "event" ? o.event.pbxCallId : o.cdr.pbxCallId) === "1796125024.72"),
      );
      assert.equal(result.tracker.stats.supervisionCalls, 1);
      assert.equal(result.tracker.activeCalls, 0);
    });
  });

  it("reports who rang and who answered, the trunk, the caller id and the SIP code", () => {
    const inbound = replay(messagesOf("ast-real-01a-inbound-answered-A.txt"));
    const [ringing, answered, hangup] = inbound.events;
    assert.equal(ringing?.extension, "1001");
    assert.equal(answered?.extension, "1001");
    assert.equal(answered?.answeredAt?.seconds, 1796125063n);
    assert.equal(hangup?.durationSeconds, 5);
    assert.deepEqual(hangup?.cause, { ...hangup?.cause, q850Code: 16, name: "NORMAL_CLEARING", sipCode: 0 });
    const cdr = inbound.cdrs[0];
    assert.equal(cdr?.trunk, "provider");
    assert.equal(cdr?.callerIdNumber, "+35799123456");
    assert.equal(cdr?.callerIdName, "John Customer");
    assert.equal(cdr?.waitSeconds, 2);
    assert.equal(cdr?.disposition, "ANSWERED");
    assert.equal(cdr?.startedAt?.nanos, 659_274_000, "microseconds kept");

    const busy = replay(messagesOf("ast-real-07g-outbound-busy-A.txt")).cdrs[0];
    assert.equal(busy?.trunk, "provider");
    assert.equal(busy?.cause?.name, "USER_BUSY");
    assert.equal(busy?.cause?.sipCode, 486);
    assert.equal(busy?.disposition, "BUSY", "Asterisk's Cdr events came after the last Hangup and still count");

    const declined = replay(messagesOf("ast-real-04d-inbound-declined-A.txt")).cdrs[0];
    assert.equal(declined?.cause?.sipCode, 603, "the callee's response, not what Asterisk sent the trunk");
    assert.equal(declined?.disposition, "NO ANSWER", "raw, unlike the computed status");
  });

  describe("click-to-call", () => {
    const file = "ast-real-16p-click-to-call-A.txt";
    const originate = {
      callId: "9b2f3c1e-0000-4000-8000-000000000016",
      extension: "1001",
      context: "from-internal",
      destination: "0035799123456",
      variables: { CRM_ID: "abc123" },
    };

    it("carries the id and variables of the Originate the driver announced", () => {
      const result = replay(messagesOf(file), {}, (tracker) => tracker.expectOriginate(originate));
      assertWellFormed(result.outputs, "agent-7");
      assert.ok(
        result.outputs.every(
          (output) => (output.kind === "event" ? output.event : output.cdr).callId === originate.callId,
        ),
      );
      const [first] = result.events;
      assert.equal(first?.kind, CallEventKind.ORIGINATE);
      assert.equal(first?.extension, "1001");
      assert.equal(first?.toNumber, "0035799123456", "known from the Originate before any dial");
      assert.equal(first?.direction, CallDirection.OUTBOUND);
      assert.deepEqual(first?.variables, { CRM_ID: "abc123" });
      assert.equal(first?.callerIdName, "Alice Smith");
      assertCallMatches(result.cdrs[0], result.events.at(-1), expectedCallsOf(file)[0] as ExpectedCall);
    });

    it("takes the call id from CALLMESH_CALL_ID on the Local channel", () => {
      const messages = messagesOf(file);
      const newchannel = messages.findIndex((message) => message.event === "Newchannel");
      const first = messages[newchannel] as AmiMessage;
      const callIdVarSet = AmiMessage.fromPairs([
        ["Event", "VarSet"],
        ["Channel", first.get("Channel") ?? ""],
        ["Uniqueid", first.get("Uniqueid") ?? ""],
        ["Linkedid", first.get("Linkedid") ?? ""],
        ["Variable", "CALLMESH_CALL_ID"],
        ["Value", "from-the-pbx"],
      ]);
      messages.splice(newchannel + 1, 0, callIdVarSet);
      const other = { ...originate, callId: "from-the-pbx", variables: { CRM_ID: "x" } };
      // Two originates for the same extension: the channel name alone would pick the older one.
      const result = replay(messages, {}, (tracker) => {
        tracker.expectOriginate(originate);
        tracker.expectOriginate(other);
      });
      assertWellFormed(result.outputs, "agent-7");
      assert.deepEqual(new Set(result.events.map((event) => event.callId)), new Set(["from-the-pbx"]));
      assert.deepEqual(result.cdrs[0]?.variables, { CRM_ID: "abc123" }, "valued as the PBX reported them");
    });

    it("a click-to-call the agent never answered fails, though Asterisk's Cdr says NO ANSWER", () => {
      const result = replay(messagesOf("ast-real-17q-click-to-call-agent-noanswer-A.txt"), {}, (tracker) =>
        tracker.expectOriginate({ ...originate, callId: "c2c-17q", variables: { CRM_ID: "abc124" } }),
      );
      const cdr = result.cdrs[0];
      assert.equal(cdr?.callId, "c2c-17q");
      assert.equal(cdr?.status, CallStatus.FAILED);
      assert.equal(cdr?.disposition, "NO ANSWER");
      assert.deepEqual(cdr?.missedExtensions, ["1001"]);
      assert.equal(cdr?.cause?.sipCode, 480);
    });
  });

  it("derives the same call ids on every replay, distinct per agent", () => {
    const messages = messagesOf("ast-real-09i-internal-answered-A.txt");
    const once = replay(messages).cdrs[0]?.callId;
    assert.match(once ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(replay(messages).cdrs[0]?.callId, once);
    assert.notEqual(replay(messages, { agentId: "agent-8" }).cdrs[0]?.callId, once);
  });

  it("keeps overlapping calls apart", () => {
    // 07g moved in time to start while 01a rings, then both merged in PBX time order.
    const timeOf = (message: AmiMessage) => Number(message.get("Timestamp") ?? "0");
    const a = messagesOf("ast-real-01a-inbound-answered-A.txt").filter((message) => message.has("Timestamp"));
    const b = messagesOf("ast-real-07g-outbound-busy-A.txt").filter((message) => message.has("Timestamp"));
    const shift = timeOf(a[10] as AmiMessage) - timeOf(b[0] as AmiMessage);
    const shifted = b.map(
      (message) =>
        new AmiMessage(
          message.fields.map((value, index) =>
            message.fields[index - 1] === "Timestamp" ? (Number(value) + shift).toFixed(6) : value,
          ),
        ),
    );
    const merged = [...a, ...shifted].sort((x, y) => timeOf(x) - timeOf(y));
    const together = replay(merged);
    assertWellFormed(together.outputs, "agent-7");
    const kinds = together.events.map((event) => `${event.toNumber}:${CallEventKind[event.kind]}`);
    assert.deepEqual(kinds.slice(0, 4), [
      "35722555101:RINGING",
      "0035799123456:RINGING",
      "0035799123456:HANGUP",
      "35722555101:ANSWERED",
    ]);
    const summary = (result: Replay) =>
      new Map(
        result.cdrs.map((cdr) => [cdr.callId, [cdr.status, cdr.talkSeconds, cdr.disposition, cdr.cause?.sipCode]]),
      );
    assert.deepEqual(summary(together), new Map([...summary(replay(a)), ...summary(replay(b))]));
  });

  describe("the Cdr waits for Asterisk's own Cdr events", () => {
    const busy = () => messagesOf("ast-real-07g-outbound-busy-A.txt");
    const lastHangup = (messages: AmiMessage[]) => messages.findLastIndex((message) => message.event === "Hangup");

    it("until the grace period passes on the wall clock", () => {
      let now = 1_000_000;
      const outputs: CallOutput[] = [];
      const tracker = createAmiCallTracker({
        agentId: "a",
        onOutput: (output) => outputs.push(output),
        now: () => now,
      });
      const messages = busy();
      for (const message of messages.slice(0, lastHangup(messages) + 1)) tracker.handle(message);
      assert.equal(outputs.at(-1)?.kind, "event", "HANGUP went out at once");
      for (const message of messages.slice(lastHangup(messages) + 1)) tracker.handle(message);
      tracker.tick();
      assert.equal(outputs.at(-1)?.kind, "event", "still waiting");
      now += 2000;
      tracker.tick();
      const last = outputs.at(-1);
      assert.equal(last?.kind === "cdr" && last.cdr.disposition, "BUSY");
      tracker.flush();
      assert.equal(outputs.filter((output) => output.kind === "cdr").length, 1);
    });

    it("or once an event from later on the PBX arrives", () => {
      const outputs: CallOutput[] = [];
      const tracker = createAmiCallTracker({ agentId: "a", onOutput: (output) => outputs.push(output), now: () => 0 });
      for (const message of busy()) tracker.handle(message);
      assert.equal(outputs.at(-1)?.kind, "event");
      tracker.handle(
        AmiMessage.fromPairs([
          ["Event", "DeviceStateChange"],
          ["Timestamp", "1796124885.000000"],
        ]),
      );
      assert.equal(outputs.at(-1)?.kind, "cdr");
      assert.equal(tracker.activeCalls, 0);
    });
  });

  describe("ignores, and counts, what it cannot place", () => {
    it("events of calls it never saw start (e.g. the agent started mid-call)", () => {
      const messages = messagesOf("ast-real-01a-inbound-answered-A.txt");
      const afterStart = messages.slice(messages.findIndex((message) => message.event === "DialBegin"));
      const result = replay(afterStart);
      assert.deepEqual(result.outputs, []);
      assert.ok(result.tracker.stats.ignored.unknown_call > 0);
      assert.equal(result.tracker.activeCalls, 0);
    });

    it("events without Linkedid, unknown events, malformed ones", () => {
      const result = replay([
        AmiMessage.fromPairs([
          ["Event", "Hangup"],
          ["Uniqueid", "1.1"],
        ]),
        AmiMessage.fromPairs([
          ["Event", "Newchannel"],
          ["Channel", "PJSIP/1001-00000001"],
        ]),
        AmiMessage.fromPairs([
          ["Event", "VarSet"],
          ["Linkedid", "nope"],
          ["Variable", "X"],
          ["Value", "1"],
        ]),
        AmiMessage.fromPairs([
          ["Event", "SomethingNew"],
          ["Linkedid", "1.1"],
        ]),
        AmiMessage.fromPairs([["Response", "Success"]]),
        AmiMessage.fromPairs([
          ["Event", "Cdr"],
          ["UniqueID", "9.9"],
          ["Disposition", "ANSWERED"],
        ]),
      ]);
      assert.deepEqual(result.outputs, []);
      const { stats } = result.tracker;
      assert.equal(stats.unhandled, 1, "responses are not events");
      assert.equal(stats.unknownEvents, 1);
      assert.equal(stats.ignored.malformed, 1);
      assert.equal(stats.ignored.unknown_call, 3);
    });

    it("a replayed Newchannel or a second Hangup of the same channel", () => {
      const messages = messagesOf("ast-real-09i-internal-answered-A.txt");
      const doubled = messages.flatMap((message) =>
        message.event === "Newchannel" || message.event === "Hangup" ? [message, message] : [message],
      );
      const result = replay(doubled);
      assertWellFormed(result.outputs, "agent-7");
      assert.equal(result.tracker.stats.ignored.duplicate, 4);
      assert.deepEqual(result.cdrs, replay(messages).cdrs);
    });
  });
});
