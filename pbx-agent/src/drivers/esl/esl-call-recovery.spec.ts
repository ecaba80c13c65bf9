import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { createLogger } from "@callmesh/platform/logging.js";
import type { CallOutput } from "../../ports/pbx-driver.js";
import { until } from "../../test-gateway.js";
import { answeredUsOfDump, type LiveChannel } from "./esl-call-recovery.js";
import { snapshotEslCall } from "./esl-call-snapshot.js";
import { createEslCallTracker, type EslCallTracker } from "./esl-call-tracker.js";
import { eventInvariantProblems, readEslCapture } from "./esl-capture-fixture.js";
import { createEslDriver } from "./esl-driver.js";
import { createEslSessionNormalizer } from "./esl-normalizer.js";
import { captureStream, EslTestServer, type EslTestServerOptions } from "./esl-test-server.js";

const logger = createLogger("esl-call-recovery-spec", "silent");

/** fs-real-01a cut before its first CHANNEL_HANGUP: the call is answered and talking. */
function split01a(): { head: Buffer; tail: Buffer } {
  const bytes = readEslCapture("fs-real-01a-inbound-answered-A.txt");
  const cut = bytes.lastIndexOf("Content-Length:", bytes.indexOf("Event-Name: CHANNEL_HANGUP\n"));
  return { head: bytes.subarray(0, cut), tail: bytes.subarray(cut) };
}

/** fs-real-01a while 1001 still rings: cut before its CHANNEL_ANSWER. */
function ringing01a(): Buffer {
  const bytes = readEslCapture("fs-real-01a-inbound-answered-A.txt");
  return bytes.subarray(0, bytes.lastIndexOf("Content-Length:", bytes.indexOf("Event-Name: CHANNEL_ANSWER\n")));
}

function tracked(states?: Map<string, unknown>): {
  tracker: EslCallTracker;
  outputs: CallOutput[];
  push(bytes: Buffer): void;
} {
  const outputs: CallOutput[] = [];
  const tracker = createEslCallTracker({
    agentId: "agent-1",
    onOutput: (output) => outputs.push(output),
    // As the call state files keep them: JSON, the latest per call, gone with the Cdr.
    ...(states === undefined
      ? {}
      : {
          persistence: {
            save: (call) => states.set(call.pbxCallId, JSON.parse(JSON.stringify(snapshotEslCall(call)))),
            drop: (call) => states.delete(call.pbxCallId),
          },
        }),
  });
  const normalizer = createEslSessionNormalizer({ agentId: "", onOutput: () => undefined, tracker, logger });
  return { tracker, outputs, push: (bytes) => normalizer.push(bytes) };
}

const events = (outputs: CallOutput[]) => outputs.flatMap((output) => (output.kind === "event" ? [output.event] : []));
const cdrs = (outputs: CallOutput[]) => outputs.flatMap((output) => (output.kind === "cdr" ? [output.cdr] : []));

/** What `show channels as json` and uuid_dump say of the tracker's live legs. */
function channelsOf(tracker: EslCallTracker): LiveChannel[] {
  return tracker.liveCalls().flatMap((call) =>
    [...call.legs.values()].map((leg) => ({
      uuid: leg.uuid,
      direction: leg === call.first ? "inbound" : "outbound",
      createdEpoch: Math.floor(leg.startedUs / 1_000_000),
      name: leg.channel,
      callstate: leg.answeredUs === undefined ? "RINGING" : "ACTIVE",
      cidName: call.callerIdName,
      cidNum: call.callerIdNumber,
      dest: leg.destination,
      context: leg === call.first ? "public" : "default",
      presenceId: leg.extension === "" ? "" : `${leg.extension}@127.0.0.1`,
      callUuid: call.first.uuid,
      answeredUs: leg.answeredUs,
      callId: undefined,
    })),
  );
}

describe("ESL recovery from show channels", () => {
  it("an agent restarted mid-call rebuilds it silently: no second start, one HANGUP and Cdr, same id, talk kept", () => {
    const { head, tail } = split01a();
    const before = tracked();
    before.push(head);
    assert.deepEqual(
      events(before.outputs).map((event) => event.kind),
      [CallEventKind.RINGING, CallEventKind.ANSWERED],
    );
    const [answered] = events(before.outputs).slice(-1);

    const after = tracked();
    after.tracker.beginRecovery();
    const outcome = after.tracker.recover(channelsOf(before.tracker), true);
    assert.deepEqual(outcome, { adopted: 1, answered: 0, ended: 0 });
    assert.deepEqual(after.outputs, []);
    const [call] = after.tracker.liveCalls();
    assert.equal(call?.callId, answered?.callId);
    assert.equal(call?.answeredBy, "1001");
    after.push(tail);
    const kinds = events(after.outputs).map((event) => event.kind);
    assert.deepEqual(kinds, [CallEventKind.HANGUP]);
    const [hangup] = events(after.outputs);
    assert.equal(hangup?.callId, answered?.callId);
    assert.ok((hangup?.sequence ?? 0) > (answered?.sequence ?? 0), "numbered past the events sent before");
    const [cdr] = cdrs(after.outputs);
    assert.equal(cdr?.talkSeconds, 3);
    assert.equal(cdr?.answeredBy, "1001");
    assert.equal(cdr?.fromNumber, "+35799123456");
    assert.equal(cdr?.toNumber, "35722555101");
    assert.deepEqual(cdr?.rungExtensions, ["1001"]);
  });

  it("a reconnect ends, once, a call FreeSWITCH no longer has (its hangup was missed)", () => {
    const { head } = split01a();
    const session = tracked();
    session.push(head);
    session.tracker.beginRecovery();
    assert.deepEqual(session.tracker.recover([], false), { adopted: 0, answered: 0, ended: 1 });
    assert.deepEqual(
      events(session.outputs).map((event) => event.kind),
      [CallEventKind.RINGING, CallEventKind.ANSWERED, CallEventKind.HANGUP],
    );
    assert.equal(cdrs(session.outputs).length, 1);
    session.tracker.beginRecovery();
    assert.deepEqual(session.tracker.recover([], false), { adopted: 0, answered: 0, ended: 0 });
    assert.equal(cdrs(session.outputs).length, 1);
  });

  it("a reconnect keeps a call still up, and announces one that started while the session was down", () => {
    const { head } = split01a();
    const pbx = tracked();
    pbx.push(head);
    const session = tracked();
    session.tracker.beginRecovery();
    session.tracker.recover(channelsOf(pbx.tracker), false);
    assert.deepEqual(
      events(session.outputs).map((event) => event.kind),
      [CallEventKind.RINGING, CallEventKind.ANSWERED],
    );
    session.tracker.beginRecovery();
    assert.deepEqual(session.tracker.recover(channelsOf(pbx.tracker), false), { adopted: 0, answered: 0, ended: 0 });
    assert.equal(events(session.outputs).length, 2);
  });

  it("events that come while recovery asks FreeSWITCH wait for it, then are handled in order", () => {
    const { head, tail } = split01a();
    const before = tracked();
    before.push(head);
    const after = tracked();
    after.tracker.beginRecovery();
    after.push(tail);
    assert.deepEqual(after.outputs, []);
    after.tracker.recover(channelsOf(before.tracker), true);
    assert.deepEqual(
      events(after.outputs).map((event) => event.kind),
      [CallEventKind.HANGUP],
    );
    assert.equal(cdrs(after.outputs)[0]?.talkSeconds, 3);
  });

  it("with the call's state file, a restarted agent goes on with the very next sequence", () => {
    const { head, tail } = split01a();
    const states = new Map<string, unknown>();
    const before = tracked(states);
    before.push(head);
    assert.equal(states.size, 1);
    const sentBefore = events(before.outputs);

    const after = tracked(states);
    assert.deepEqual(after.tracker.restore(states), { restored: 1, unusable: [] });
    after.tracker.beginRecovery();
    assert.deepEqual(after.tracker.recover(channelsOf(before.tracker), true), { adopted: 0, answered: 0, ended: 0 });
    after.push(tail);
    const [hangup] = events(after.outputs);
    assert.deepEqual(
      [...sentBefore, ...events(after.outputs)].map((event) => [
        event.callId,
        event.sequence,
        CallEventKind[event.kind],
      ]),
      [
        [sentBefore[0]?.callId, 1, "RINGING"],
        [sentBefore[0]?.callId, 2, "ANSWERED"],
        [sentBefore[0]?.callId, 3, "HANGUP"],
      ],
    );
    assert.equal(hangup?.talkSeconds, 3);
    assert.equal(cdrs(after.outputs).length, 1);
    assert.equal(states.size, 0, "the state file goes with the Cdr");
  });

  it("with the call's state file, a call that ended while the agent was down gets its HANGUP and whole Cdr", () => {
    const { head } = split01a();
    const states = new Map<string, unknown>();
    tracked(states).push(head);
    const after = tracked(states);
    after.tracker.restore(states);
    after.tracker.beginRecovery();
    assert.deepEqual(after.tracker.recover([], true), { adopted: 0, answered: 0, ended: 1 });
    assert.deepEqual(
      events(after.outputs).map((event) => [event.sequence, CallEventKind[event.kind]]),
      [[3, "HANGUP"]],
    );
    const [cdr] = cdrs(after.outputs);
    assert.equal(cdr?.answeredBy, "1001");
    assert.equal(cdr?.legs.length, 2);
    assert.deepEqual(cdr?.rungExtensions, ["1001"]);
  });

  it("a call ringing when the session dropped and answered meanwhile gets one ANSWERED at FreeSWITCH's answer time", () => {
    const { head, tail } = split01a();
    // What FreeSWITCH has at the login: both legs up, with their answer times (uuid_dump).
    const pbx = tracked();
    pbx.push(head);
    const session = tracked();
    session.push(ringing01a());
    assert.deepEqual(
      events(session.outputs).map((event) => event.kind),
      [CallEventKind.RINGING],
    );
    session.tracker.beginRecovery();
    assert.deepEqual(session.tracker.recover(channelsOf(pbx.tracker), false), { adopted: 0, answered: 1, ended: 0 });
    const [, answered] = events(session.outputs);
    const [, seen] = events(pbx.outputs);
    assert.equal(answered?.kind, CallEventKind.ANSWERED);
    assert.equal(answered?.extension, "1001");
    assert.deepEqual(answered?.answeredAt, seen?.answeredAt, "FreeSWITCH's own answer time");
    // A second login finds it answered already: no second ANSWERED.
    session.tracker.beginRecovery();
    assert.deepEqual(session.tracker.recover(channelsOf(pbx.tracker), false), { adopted: 0, answered: 0, ended: 0 });
    session.push(tail);
    assert.deepEqual(
      events(session.outputs).map((event) => [event.sequence, CallEventKind[event.kind]]),
      [
        [1, "RINGING"],
        [2, "ANSWERED"],
        [3, "HANGUP"],
      ],
    );
    const [cdr] = cdrs(session.outputs);
    assert.equal(cdr?.answeredBy, "1001");
    assert.equal(cdr?.talkSeconds, 3);
    assert.deepEqual(eventInvariantProblems(session.outputs), []);
  });

  it("a call ringing when the session dropped and gone at the login ends with its one HANGUP", () => {
    const session = tracked();
    session.push(ringing01a());
    session.tracker.beginRecovery();
    assert.deepEqual(session.tracker.recover([], false), { adopted: 0, answered: 0, ended: 1 });
    assert.deepEqual(
      events(session.outputs).map((event) => [event.sequence, CallEventKind[event.kind]]),
      [
        [1, "RINGING"],
        [2, "HANGUP"],
      ],
    );
    assert.equal(cdrs(session.outputs).length, 1);
    assert.equal(cdrs(session.outputs)[0]?.answeredAt, undefined);
    assert.deepEqual(eventInvariantProblems(session.outputs), []);
  });

  it("reads the answer time from uuid_dump: Caller-Channel-Answered-Time, else answer_uepoch or answer_epoch", () => {
    assert.equal(answeredUsOfDump({ "Caller-Channel-Answered-Time": "1796126908160682" }), 1796126908160682);
    assert.equal(
      answeredUsOfDump({ "Caller-Channel-Answered-Time": "0", variable_answer_uepoch: "1796126908160682" }),
      1796126908160682,
    );
    assert.equal(answeredUsOfDump({ variable_answer_epoch: "1796126908" }), 1796126908000000);
    assert.equal(answeredUsOfDump({ "Caller-Channel-Answered-Time": "0", variable_answer_epoch: "0" }), undefined);
    assert.equal(answeredUsOfDump(undefined), undefined);
  });

  it("an agent restarted while a supervisor listens finds them again: a monitor leg, their Spy's session by its id", () => {
    const supervisor = "0a497175-6c11-4efb-a185-2db851a1c928";
    const spied = "08ae2cec-b36f-476d-9659-f670af6e879b";
    const spyCallId = "5f0c7e2a-2b1d-4c8e-9a47-0d3e6b1f8c21";
    // fs-real-19s cut before the supervisor's CHANNEL_HANGUP: 1005 eavesdrops on 1001's leg.
    const bytes = readEslCapture("fs-real-19s-eavesdrop-A.txt");
    const cut = bytes.lastIndexOf("Content-Length:", bytes.indexOf("Event-Name: CHANNEL_HANGUP\n"));
    const before = tracked();
    before.push(bytes.subarray(0, cut));
    // As show channels and uuid_dump tell them: the supervisor's leg is a call_uuid of its own,
    // runs eavesdrop on 1001's leg, and carries the driver's spy_call_id.
    const channels = channelsOf(before.tracker).map((channel) =>
      channel.uuid === supervisor
        ? { ...channel, callUuid: supervisor, callId: spyCallId, application: { name: "eavesdrop", data: spied } }
        : channel,
    );
    assert.equal(channels.length, 3);
    const after = tracked();
    after.tracker.beginRecovery();
    assert.deepEqual(after.tracker.recover(channels, true), { adopted: 1, answered: 0, ended: 0 });
    assert.equal(after.tracker.liveCalls().length, 1, "no call of the supervisor's own");
    assert.equal(after.tracker.findSpySession(spyCallId)?.leg?.uuid, supervisor);
    after.push(bytes.subarray(cut));
    assert.equal(after.tracker.findSpySession(spyCallId), undefined, "over once the supervisor hung up");
    assert.deepEqual(
      events(after.outputs).map((event) => CallEventKind[event.kind]),
      ["HANGUP"],
    );
    assert.equal(cdrs(after.outputs).length, 1);
    assert.equal(cdrs(after.outputs)[0]?.answeredBy, "1001");
  });

  it("a state that is not an ESL call's is reported unusable", () => {
    const session = tracked();
    assert.deepEqual(session.tracker.restore(new Map([["x", { v: 9 }]])), {
      restored: 0,
      unusable: [{ key: "x", reason: "not an ESL call state" }],
    });
  });

  it("a call that starts as the agent logs in is told by its own queued events, not adopted silently", () => {
    const { head } = split01a();
    const pbx = tracked();
    pbx.push(head);
    const session = tracked();
    session.tracker.beginRecovery();
    session.push(head);
    assert.deepEqual(session.tracker.recover(channelsOf(pbx.tracker), true), { adopted: 0, answered: 0, ended: 0 });
    assert.deepEqual(
      events(session.outputs).map((event) => [event.sequence, CallEventKind[event.kind]]),
      [
        [1, "RINGING"],
        [2, "ANSWERED"],
      ],
    );
  });
});

describe("ESL driver: a call answered while the session was down", () => {
  let cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups = [];
  });

  it("takes the answer time from uuid_dump at the login: one ANSWERED, then HANGUP and a Cdr with the true talk time", async () => {
    const caller = "50b69298-8cff-477e-b3dc-ea92229f7f19";
    const agent = "d7f0f725-533f-4666-9371-bb0530284d20";
    const stream = captureStream("fs-real-01a-inbound-answered-A.txt");
    const answerAt = stream.lastIndexOf("Content-Length:", stream.indexOf("Event-Name: CHANNEL_ANSWER\n"));
    const hangupAt = stream.lastIndexOf("Content-Length:", stream.indexOf("Event-Name: CHANNEL_HANGUP\n"));
    // What FreeSWITCH says at the second login: both legs up, 1001's answered at fs-real-01a's time.
    const row = (uuid: string, direction: string, name: string, dest: string) => ({
      uuid,
      direction,
      created_epoch: "1796126536",
      name,
      callstate: "ACTIVE",
      cid_name: "John Customer",
      cid_num: "+35799123456",
      initial_dest: dest,
      context: direction === "inbound" ? "public" : "default",
      presence_id: direction === "inbound" ? "" : "1001@127.0.0.1",
      call_uuid: caller,
    });
    const rows = [
      row(caller, "inbound", "sofia/external/+35799123456@127.0.0.1:5070", "35722555101"),
      row(agent, "outbound", "sofia/internal/1001@127.0.0.1:6001", "1001"),
    ];
    const options: EslTestServerOptions = {
      password: "ClueCon",
      afterLogin: stream.subarray(0, answerAt),
      onApi: (command) => {
        if (!command.startsWith("uuid_dump ")) return undefined;
        const uuid = command.split(" ")[1];
        // 1.10 keeps no answer_uepoch before the hangup: the answer is Caller-Channel-Answered-Time.
        return `${JSON.stringify({ "Unique-ID": uuid, "Caller-Channel-Answered-Time": "1796126538560670" })}\n`;
      },
    };
    const server = await EslTestServer.start(options);
    cleanups.push(() => server.close());
    const driver = createEslDriver({
      host: "127.0.0.1",
      port: server.port,
      password: "ClueCon",
      agentId: "agent-1",
      logger,
      pingIntervalMs: 0,
      reconnectDelayMs: 20,
      maxReconnectDelayMs: 50,
    });
    const outputs: CallOutput[] = [];
    driver.onOutput((output) => outputs.push(output));
    driver.start();
    cleanups.push(() => driver.stop());
    await until("ringing", () => events(outputs).some((event) => event.kind === CallEventKind.RINGING));
    // 1001 answers while the session is down.
    options.afterLogin = undefined;
    options.channels = `${JSON.stringify({ row_count: rows.length, rows })}\n`;
    server.dropClients();
    await until("ANSWERED at the login", () => events(outputs).some((event) => event.kind === CallEventKind.ANSWERED));
    server.push(stream.subarray(hangupAt));
    await until("the Cdr", () => cdrs(outputs).length === 1);
    assert.deepEqual(
      events(outputs).map((event) => [event.sequence, CallEventKind[event.kind], event.extension]),
      [
        [1, "RINGING", "1001"],
        [2, "ANSWERED", "1001"],
        [3, "HANGUP", "1001"],
      ],
    );
    const [cdr] = cdrs(outputs);
    assert.equal(cdr?.answeredBy, "1001");
    assert.equal(cdr?.talkSeconds, 3);
    assert.deepEqual(eventInvariantProblems(outputs), []);
  });
});
