import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { type CallEvent, CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { CallStatus } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import type { Cdr } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import type { CallOutput } from "../../ports/pbx-driver.js";
import { rebuiltSequenceBase } from "../rebuilt-sequence.js";
import { restoreCall, snapshotCall } from "./ami-call-snapshot.js";
import { type AmiCallTracker, createAmiCallTracker } from "./ami-call-tracker.js";
import { readCapture } from "./ami-capture-fixture.js";
import { AmiMessage } from "./ami-message.js";
import { createNumberPlan } from "./ami-number-plan.js";
import { createAmiParser } from "./ami-parser.js";

// ast-real-01a: trunk caller → DID → 1001 rings 2 s, answers, talks 3 s, the caller hangs up.
const CAPTURE = "ast-real-01a-inbound-answered-A.txt";

function messagesOf(file: string): AmiMessage[] {
  const messages: AmiMessage[] = [];
  createAmiParser({ onMessage: (message) => messages.push(message) }).push(readCapture(file));
  return messages;
}

/** The capture cut just after the call was answered and bridged (the agent dies during the talk). */
function splitAtTalk(messages: AmiMessage[]): { head: AmiMessage[]; tail: AmiMessage[] } {
  let cut = 0;
  messages.forEach((message, index) => {
    if (message.event === "BridgeEnter") cut = index + 1;
  });
  assert.ok(cut > 0);
  return { head: messages.slice(0, cut), tail: messages.slice(cut) };
}

/** What CoreShowChannels lists for the channels still up after `head`. */
function channelsUp(head: AmiMessage[]): AmiMessage[] {
  const up = new Map<string, AmiMessage>();
  for (const message of head) {
    const uniqueid = message.get("Uniqueid");
    if (uniqueid === undefined || message.get("Channel") === undefined) continue;
    if (message.event === "Newchannel") up.set(uniqueid, message);
    if (message.event === "Hangup") up.delete(uniqueid);
  }
  return [...up.values()].map((newchannel) =>
    AmiMessage.fromPairs([
      ["Event", "CoreShowChannel"],
      ["Channel", newchannel.get("Channel") ?? ""],
      ["ChannelState", "6"],
      ["ChannelStateDesc", "Up"],
      ["CallerIDNum", newchannel.get("CallerIDNum") ?? ""],
      ["CallerIDName", newchannel.get("CallerIDName") ?? ""],
      ["Context", newchannel.get("Context") ?? ""],
      ["Exten", newchannel.get("Exten") ?? ""],
      ["Uniqueid", newchannel.get("Uniqueid") ?? ""],
      ["Linkedid", newchannel.get("Linkedid") ?? ""],
      ["Application", "Dial"],
      ["Duration", "00:00:04"],
    ]),
  );
}

/** A tracker whose saved states land in `states` as the state file would give them back (JSON). */
function trackerWithStates(states: Map<string, unknown>, outputs: CallOutput[]): AmiCallTracker {
  return createAmiCallTracker({
    agentId: "agent-7",
    onOutput: (output) => outputs.push(output),
    now: () => 0, // Cdrs go out by the event clock (or flush), not by the wall clock
    persistence: {
      save: (call) => states.set(call.linkedid, JSON.parse(JSON.stringify(snapshotCall(call)))),
      drop: (call) => states.delete(call.linkedid),
    },
  });
}

const eventsOf = (outputs: CallOutput[]): CallEvent[] =>
  outputs.flatMap((output) => (output.kind === "event" ? [output.event] : []));
const cdrsOf = (outputs: CallOutput[]): Cdr[] =>
  outputs.flatMap((output) => (output.kind === "cdr" ? [output.cdr] : []));
const kinds = (events: CallEvent[]) => events.map((event) => CallEventKind[event.kind]);

describe("AMI call state across an agent restart", () => {
  const messages = messagesOf(CAPTURE);
  const { head, tail } = splitAtTalk(messages);

  // The same call seen by one agent that never stopped.
  const whole: CallOutput[] = [];
  const uninterrupted = createAmiCallTracker({ agentId: "agent-7", onOutput: (output) => whole.push(output) });
  for (const message of messages) uninterrupted.handle(message);
  uninterrupted.flush();
  const wholeEvents = eventsOf(whole);
  const wholeCdr = cdrsOf(whole)[0];

  it("a snapshot restores the call it was taken of", () => {
    const states = new Map<string, unknown>();
    const tracker = trackerWithStates(states, []);
    for (const message of head) tracker.handle(message);
    const [live] = tracker.liveCalls();
    assert.ok(live);
    const restored = restoreCall(JSON.parse(JSON.stringify(snapshotCall(live))), createNumberPlan({}));
    assert.deepEqual(snapshotCall(restored), snapshotCall(live));
    assert.equal(restored.first.parsed.tech, "PJSIP");
    assert.equal(restored.legs.get([...restored.channels.keys()][1] ?? "")?.to, [...restored.channels.values()][1]);
  });

  it("killed mid-call and restarted: the call continues its sequence, one ANSWERED, the true talk time", () => {
    const states = new Map<string, unknown>();
    const before: CallOutput[] = [];
    const killed = trackerWithStates(states, before);
    for (const message of head) killed.handle(message);
    assert.equal(states.size, 1, "the call's state is saved");

    const after: CallOutput[] = [];
    const restarted = trackerWithStates(states, after);
    assert.deepEqual(restarted.restore(new Map(states)), { live: 1, ending: 0, unusable: [] });
    assert.equal(restarted.liveCalls()[0]?.callId, wholeEvents[0]?.callId, "listed at once, same call id");
    const result = restarted.reconcile(channelsUp(head), Number(BigInt(Date.now()) * 1000n));
    assert.deepEqual(result, { ended: 0, recovered: 0 });
    assert.equal(after.length, 0, "nothing emitted by the restore and the reconcile");
    for (const message of tail) restarted.handle(message);
    restarted.flush();

    const events = [...eventsOf(before), ...eventsOf(after)];
    assert.deepEqual(kinds(events), kinds(wholeEvents));
    assert.deepEqual(
      events.map((event) => event.sequence),
      events.map((_, index) => index + 1),
      "sequence 1..n, no gap, no repeat",
    );
    assert.deepEqual(
      events.map((event) => event.eventId),
      wholeEvents.map((event) => event.eventId),
    );
    const hangup = events.at(-1);
    assert.equal(hangup?.kind, CallEventKind.HANGUP);
    assert.equal(hangup?.talkSeconds, 3);
    assert.equal(hangup?.talkSeconds, wholeEvents.at(-1)?.talkSeconds);
    const cdrs = cdrsOf(after);
    assert.equal(cdrs.length, 1);
    assert.equal(cdrs[0]?.talkSeconds, 3);
    assert.equal(cdrs[0]?.durationSeconds, wholeCdr?.durationSeconds);
    assert.equal(cdrs[0]?.answeredBy, "1001");
    assert.deepEqual(cdrs[0]?.rungExtensions, ["1001"]);
    assert.deepEqual(cdrs[0]?.answeredAt, wholeCdr?.answeredAt);
    assert.equal(cdrs[0]?.status, CallStatus.SUCCESS);
    assert.equal(states.size, 0, "the state is dropped at the Cdr");
  });

  it("the call ended while the agent was down: one HANGUP at the reconnect and one Cdr, from the saved state", () => {
    const states = new Map<string, unknown>();
    const before: CallOutput[] = [];
    const killed = trackerWithStates(states, before);
    for (const message of head) killed.handle(message);
    const answered = eventsOf(before).find((event) => event.kind === CallEventKind.ANSWERED);
    assert.ok(answered?.answeredAt);

    const after: CallOutput[] = [];
    const restarted = trackerWithStates(states, after);
    restarted.restore(new Map(states));
    const reconnectUs = (timestampMs(answered.answeredAt) + 60_000) * 1000;
    assert.deepEqual(restarted.reconcile([], reconnectUs), { ended: 1, recovered: 0 });
    restarted.flush();

    const events = eventsOf(after);
    assert.deepEqual(kinds(events), ["HANGUP"]);
    assert.equal(events[0]?.sequence, eventsOf(before).length + 1);
    assert.equal(events[0]?.talkSeconds, 60, "from the true answer to the reconnect");
    const cdrs = cdrsOf(after);
    assert.equal(cdrs.length, 1);
    assert.equal(cdrs[0]?.talkSeconds, 60);
    assert.deepEqual(cdrs[0]?.answeredAt, answered.answeredAt);
    assert.equal(timestampMs(cdrs[0]?.endedAt ?? answered.answeredAt), reconnectUs / 1000);
  });

  it("killed after the HANGUP, before the Cdr: the Cdr goes out after the restart, no second HANGUP", () => {
    const states = new Map<string, unknown>();
    const before: CallOutput[] = [];
    const killed = trackerWithStates(states, before);
    for (const message of messages) killed.handle(message); // no flush: the Cdr still waits for its grace time
    assert.equal(cdrsOf(before).length, 0, "the Cdr still waits for its grace time");
    assert.equal(eventsOf(before).at(-1)?.kind, CallEventKind.HANGUP);

    const after: CallOutput[] = [];
    const restarted = trackerWithStates(states, after);
    assert.deepEqual(restarted.restore(new Map(states)), { live: 0, ending: 1, unusable: [] });
    restarted.reconcile([], Date.now() * 1000);
    restarted.tick();
    assert.deepEqual(kinds(eventsOf(after)), []);
    assert.equal(cdrsOf(after).length, 1);
    assert.equal(cdrsOf(after)[0]?.talkSeconds, 3);
    assert.equal(states.size, 0);
  });

  it("a state that is not a call is reported by its key, and the others restore", () => {
    const states = new Map<string, unknown>();
    const killed = trackerWithStates(states, []);
    for (const message of head) killed.handle(message);
    const mixed = new Map<string, unknown>([["bad-1", { v: 1, linkedid: "x" }], ["bad-2", 42], ...states]);
    const restarted = trackerWithStates(new Map(), []);
    const result = restarted.restore(mixed);
    assert.equal(result.live, 1);
    assert.deepEqual(
      result.unusable.map((entry) => entry.key),
      ["bad-1", "bad-2"],
    );
    assert.match(result.unusable[0]?.reason ?? "", /not a call snapshot: callId/);
  });

  it("a call rebuilt from nothing (no state) is saved too: a second restart continues its sequence", () => {
    const states = new Map<string, unknown>();
    const restarted = trackerWithStates(states, []);
    const atUs = Date.now() * 1000;
    restarted.reconcile(channelsUp(head), atUs);
    const saved = states.values().next().value as { sequence: number } | undefined;
    // Past anything sent before: 1000 and the ms since the call's Linkedid (1796125061.82).
    assert.equal(saved?.sequence, rebuiltSequenceBase(1_796_125_061_000, atUs / 1000));
  });
});
