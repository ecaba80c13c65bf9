import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  CommandSchema,
  CommandStatus,
  SpyMode,
  TransferMode,
} from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { ActiveCallState } from "@callmesh/gen/callmesh/events/v1/active_call_pb.js";
import { type CallEvent, CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import type { Cdr } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import { createLogger } from "@callmesh/platform/logging.js";
import type { CallOutput, ControlAction } from "../../ports/pbx-driver.js";
import { until } from "../../test-gateway.js";
import { type EslCallControlDeps, runEslCallControl } from "./esl-call-control.js";
import { createEslCallTracker, type EslCallTracker } from "./esl-call-tracker.js";
import { readEslCapture } from "./esl-capture-fixture.js";
import { createEslDriver, type EslDriver } from "./esl-driver.js";
import { EslEvent } from "./esl-event.js";
import { createEslSessionNormalizer } from "./esl-normalizer.js";
import { captureStream, EslTestServer } from "./esl-test-server.js";

const logger = createLogger("esl-call-control-spec", "silent");

/** The capture's bytes up to the frame that answers the recorder's bgapi: the call is up, nothing sent yet. */
function headOf(capture: string): Buffer {
  const bytes = readEslCapture(capture);
  const job = bytes.indexOf("Reply-Text: +OK Job-UUID");
  return job < 0 ? bytes : bytes.subarray(0, bytes.lastIndexOf("Content-Type:", job));
}

function trackerAt(capture: string): EslCallTracker {
  const tracker = createEslCallTracker({ agentId: "agent-1", onOutput: () => undefined, trunkGateways: ["provider"] });
  const normalizer = createEslSessionNormalizer({ agentId: "", onOutput: () => undefined, tracker, logger });
  normalizer.push(headOf(capture));
  return tracker;
}

interface Fake {
  deps: EslCallControlDeps;
  sent: string[];
}

function fake(tracker: EslCallTracker, answers: Record<string, string> = {}, job?: string): Fake {
  const sent: string[] = [];
  const answer = (command: string) =>
    Object.entries(answers).find(([prefix]) => command.startsWith(prefix))?.[1] ?? "+OK\n";
  return {
    sent,
    deps: {
      tracker,
      plan: tracker.plan,
      agentId: "agent-1",
      dialplan: { context: "default", parkSlots: ["701", "702"], conferenceProfile: "default" },
      ringSeconds: 20,
      verdictMs: 10,
      log: logger,
      connected: () => true,
      api: async (command) => {
        sent.push(`api ${command}`);
        return answer(command);
      },
      bgapi: async (command) => {
        sent.push(`bgapi ${command}`);
        return { reply: "+OK Job-UUID: 00000000-0000-0000-0000-000000000000", job };
      },
      presence: () => [],
    },
  };
}

const run = (deps: EslCallControlDeps, action: ControlAction) => runEslCallControl(deps, action);
/** A control action as the gateway sends it: every field present, defaults for the ones not given. */
const ctl = (c: ControlAction["case"], value: Record<string, unknown>): ControlAction =>
  create(CommandSchema, { action: { case: c, value } as MessageInitShape<typeof CommandSchema>["action"] })
    .action as ControlAction;

describe("ESL call control on a call the tracker rebuilt from a real capture", () => {
  // fs-real-14n up to the recorder's uuid_transfer: +35799123456 → DID → 1001 answered.
  const tracker = trackerAt("fs-real-14n-blind-transfer-A.txt");
  const call = tracker.liveCalls()[0];
  assert.ok(call, "the capture's call is in progress");
  const callId = call.callId;
  const caller = call.first.uuid;
  const agent = [...call.legs.values()].find((leg) => leg.extension === "1001")?.uuid ?? "";
  // The recorder's command names 1001's leg.
  const recordedAgentUuid = "2e672896-e419-4713-a524-3624a733021e";

  it("knows the legs as the capture's uuids", () => {
    assert.equal(agent, recordedAgentUuid);
    assert.notEqual(caller, agent);
  });

  it("an unknown call id is CALL_NOT_FOUND and nothing is sent", async () => {
    const { deps, sent } = fake(tracker);
    for (const action of [
      ctl("hangup", { callId: "nope" }),
      ctl("transfer", { callId: "nope", destination: "1002" }),
    ]) {
      assert.equal((await run(deps, action)).status, CommandStatus.CALL_NOT_FOUND);
    }
    assert.deepEqual(sent, []);
  });

  it("blind transfer is fs-real-14n's uuid_transfer of the answering leg with -bleg", async () => {
    const { deps, sent } = fake(tracker);
    const outcome = await run(deps, ctl("transfer", { callId, destination: "1002" }));
    assert.equal(outcome.status, CommandStatus.OK, outcome.message);
    assert.deepEqual(sent, [`api uuid_transfer ${recordedAgentUuid} -bleg 1002 XML default`]);
  });

  it("attended transfer is fs-real-15o's uuid_broadcast att_xfer", async () => {
    const { deps, sent } = fake(tracker, { uuid_broadcast: "+OK Message sent\n" });
    const outcome = await run(deps, ctl("transfer", { callId, destination: "1003", mode: TransferMode.ATTENDED }));
    assert.equal(outcome.status, CommandStatus.OK);
    assert.deepEqual(sent, [`api uuid_broadcast ${agent} att_xfer::user/1003 aleg`]);
    // uuid_broadcast_function: a leg gone meanwhile.
    const gone = fake(tracker, { uuid_broadcast: "-ERR invalid uuid\n" });
    const refused = await run(gone.deps, ctl("transfer", { callId, destination: "1003", mode: TransferMode.ATTENDED }));
    assert.equal(refused.status, CommandStatus.CALL_NOT_FOUND, refused.message);
  });

  it("hangup kills every live leg, or the party's; a gone leg is CALL_NOT_FOUND", async () => {
    const all = fake(tracker);
    assert.equal((await run(all.deps, ctl("hangup", { callId }))).status, CommandStatus.OK);
    assert.deepEqual(all.sent, [`api uuid_kill ${caller}`, `api uuid_kill ${agent}`]);
    const one = fake(tracker, { uuid_kill: "-ERR No such channel!\n" });
    assert.equal((await run(one.deps, ctl("hangup", { callId, party: "1001" }))).status, CommandStatus.CALL_NOT_FOUND);
    assert.deepEqual(one.sent, [`api uuid_kill ${agent}`]);
    assert.equal(
      (await run(one.deps, ctl("hangup", { callId, party: "1009" }))).status,
      CommandStatus.WRONG_CALL_STATE,
    );
  });

  it("hold is uuid_hold of the caller, resume needs a hold; -ERR Operation failed is WRONG_CALL_STATE", async () => {
    const { deps, sent } = fake(tracker, { "uuid_hold ": "+OK Success\n" });
    assert.equal((await run(deps, ctl("hold", { callId }))).status, CommandStatus.OK);
    assert.deepEqual(sent, [`api uuid_hold ${caller}`]);
    assert.equal((await run(deps, ctl("resume", { callId }))).status, CommandStatus.WRONG_CALL_STATE);
    call.heldLegs.add(caller);
    const resumed = fake(tracker, { "uuid_hold off": "-ERR Operation failed\n" });
    assert.equal((await run(resumed.deps, ctl("resume", { callId }))).status, CommandStatus.WRONG_CALL_STATE);
    assert.deepEqual(resumed.sent, [`api uuid_hold off ${caller}`]);
    call.heldLegs.delete(caller);
  });

  it("park sends the caller to a free valet slot as fs-real-21u and answers the slot", async () => {
    const { deps, sent } = fake(tracker);
    const outcome = await run(deps, ctl("park", { callId }));
    assert.equal(outcome.status, CommandStatus.OK);
    assert.deepEqual(outcome.detail, { case: "parkedAt", value: "701" });
    assert.deepEqual(sent, [`api uuid_transfer ${agent} -bleg 701 XML default`]);
    const listed = await run(deps, ctl("listCalls", { callId }));
    const active = listed.detail?.case === "calls" ? listed.detail.value.calls[0] : undefined;
    assert.equal(active?.state, ActiveCallState.PARKED);
    assert.equal(active?.parkedAt, "701");
    assert.equal((await run(deps, ctl("park", { callId }))).status, CommandStatus.WRONG_CALL_STATE);
    call.parkedAt = "";
  });

  it("spy originates the supervisor into eavesdrop / three_way of the answering leg, as fs-real-19s", async () => {
    const { deps, sent } = fake(tracker);
    for (const mode of [SpyMode.LISTEN, SpyMode.WHISPER, SpyMode.BARGE]) {
      const outcome = await run(deps, ctl("spy", { callId, supervisor: "1005", mode }));
      assert.equal(outcome.status, CommandStatus.OK, outcome.message);
    }
    assert.deepEqual(sent, [
      `bgapi originate {origination_caller_id_number=1005,originate_timeout=20,eavesdrop_enable_dtmf=false}user/1005 &eavesdrop(${agent})`,
      `bgapi originate {origination_caller_id_number=1005,originate_timeout=20,eavesdrop_enable_dtmf=false,eavesdrop_whisper_aleg=true}user/1005 &eavesdrop(${agent})`,
      `bgapi originate {origination_caller_id_number=1005,originate_timeout=20}user/1005 &three_way(${agent})`,
    ]);
    const absent = fake(tracker, {}, "-ERR SUBSCRIBER_ABSENT\n");
    const outcome = await run(absent.deps, ctl("spy", { callId, supervisor: "1099" }));
    assert.equal(outcome.status, CommandStatus.EXTENSION_UNKNOWN);
    assert.equal(
      (await run(absent.deps, ctl("spy", { callId, supervisor: "1001" }))).status,
      CommandStatus.WRONG_CALL_STATE,
    );
  });

  it("send_dtmf goes to the other party's leg; conference moves both legs with -both", async () => {
    // uuid_send_dtmf_function's success text.
    const { deps, sent } = fake(tracker, { uuid_send_dtmf: `+OK ${caller} sent DTMF 12#.\n` });
    assert.equal((await run(deps, ctl("sendDtmf", { callId, digits: "12#" }))).status, CommandStatus.OK);
    assert.equal((await run(deps, ctl("sendDtmf", { callId, digits: "1;x" }))).status, CommandStatus.PBX_REFUSED);
    assert.equal((await run(deps, ctl("addToConference", { callId, room: "sales" }))).status, CommandStatus.OK);
    assert.deepEqual(sent, [
      `api uuid_send_dtmf ${caller} 12#`,
      `api uuid_transfer ${caller} -both conference:sales@default inline`,
    ]);
  });

  it("intercept needs a ringing call", async () => {
    const { deps, sent } = fake(tracker);
    assert.equal(
      (await run(deps, ctl("intercept", { callId, extension: "1005" }))).status,
      CommandStatus.WRONG_CALL_STATE,
    );
    assert.deepEqual(sent, []);
  });

  it("ListCalls shows the answered call with its two legs", async () => {
    const { deps } = fake(tracker);
    const listed = await run(deps, ctl("listCalls", {}));
    const active = listed.detail?.case === "calls" ? listed.detail.value.calls : [];
    assert.equal(active.length, 1);
    assert.equal(active[0]?.state, ActiveCallState.ANSWERED);
    assert.equal(active[0]?.answeredBy, "1001");
    assert.equal(active[0]?.fromNumber, "+35799123456");
    assert.equal(active[0]?.legs.length, 2);
  });
});

describe("ESL call control on a ringing call", () => {
  it("intercept originates the phone into intercept(<caller's leg>), whose ringing partner FreeSWITCH hangs up", async () => {
    // fs-real-10j rings 1002 and nobody answers: cut before its first hangup.
    const bytes = readEslCapture("fs-real-10j-internal-noanswer-A.txt");
    const tracker = createEslCallTracker({ agentId: "agent-1", onOutput: () => undefined });
    const normalizer = createEslSessionNormalizer({ agentId: "", onOutput: () => undefined, tracker, logger });
    normalizer.push(bytes.subarray(0, bytes.lastIndexOf("Content-Type:", bytes.indexOf("Event-Name: CHANNEL_HANGUP"))));
    const call = tracker.liveCalls()[0];
    assert.ok(call);
    assert.ok(
      [...call.legs.values()].some((leg) => leg.role === "dialed"),
      "a phone rings",
    );
    const { deps, sent } = fake(tracker);
    const outcome = await runEslCallControl(deps, ctl("intercept", { callId: call.callId, extension: "1005" }));
    assert.equal(outcome.status, CommandStatus.OK, outcome.message);
    assert.deepEqual(sent, [
      `bgapi originate {origination_caller_id_number=1005,originate_timeout=20}user/1005 &intercept(${call.first.uuid})`,
    ]);
    assert.equal(
      (await runEslCallControl(deps, ctl("hold", { callId: call.callId }))).status,
      CommandStatus.WRONG_CALL_STATE,
    );
  });

  it("the intercepting phone's originate joins the call it intercepts and answers it", () => {
    const bytes = readEslCapture("fs-real-10j-internal-noanswer-A.txt");
    const outputs: CallOutput[] = [];
    const tracker = createEslCallTracker({ agentId: "agent-1", onOutput: (output) => outputs.push(output) });
    const normalizer = createEslSessionNormalizer({ agentId: "", onOutput: () => undefined, tracker, logger });
    normalizer.push(bytes.subarray(0, bytes.lastIndexOf("Content-Type:", bytes.indexOf("Event-Name: CHANNEL_HANGUP"))));
    const call = tracker.liveCalls()[0];
    const ringing = [...(call?.legs.values() ?? [])].find((leg) => leg.role === "dialed");
    assert.ok(call && ringing);
    const before = outputs.length;
    const interceptor = "11111111-2222-4333-8444-555555555555";
    const atUs = ringing.startedUs + 3_000_000;
    const event = (name: string, uuid: string, extra: Record<string, string> = {}) =>
      EslEvent.fromHeaders(
        new Map(
          Object.entries({
            "Event-Name": name,
            "Unique-ID": uuid,
            "Event-Date-Timestamp": String(atUs),
            "Channel-Name": uuid === interceptor ? "sofia/internal/1005@127.0.0.1:6005" : call.first.channel,
            "Call-Direction": uuid === interceptor ? "outbound" : "inbound",
            "Caller-Channel-Created-Time": String(atUs),
            "Caller-Destination-Number": "1005",
            variable_dialed_user: "1005",
            ...extra,
          }),
        ),
      );
    for (const frame of [
      event("CHANNEL_CREATE", interceptor),
      event("CHANNEL_ANSWER", interceptor),
      event("CHANNEL_EXECUTE", interceptor, { Application: "intercept", "Application-Data": ringing.uuid }),
      event("CHANNEL_BRIDGE", call.first.uuid, { "Other-Leg-Unique-ID": interceptor }),
    ]) {
      tracker.handle(frame);
    }
    const emitted = outputs.slice(before).flatMap((output) => (output.kind === "event" ? [output.event] : []));
    assert.deepEqual(
      emitted.map((e) => [e.callId, CallEventKind[e.kind], e.extension]),
      [[call.callId, "ANSWERED", "1005"]],
    );
    assert.equal(tracker.liveCalls().length, 1);
  });
});

const SPY_CALL_ID = "5f0c7e2a-2b1d-4c8e-9a47-0d3e6b1f8c21";
const SUPERVISOR_LEG = "0a497175-6c11-4efb-a185-2db851a1c928";

/** Each frame of `bytes` with its body passed through `change`, Content-Length recounted. */
function reframe(bytes: Buffer, change: (body: string) => string): Buffer {
  const text = bytes.toString("latin1");
  let out = "";
  let pos = 0;
  while (pos < text.length) {
    const end = text.indexOf("\n\n", pos);
    if (end < 0) {
      out += text.slice(pos);
      break;
    }
    const headers = text.slice(pos, end);
    const length = Number(/^Content-Length: (\d+)$/m.exec(headers)?.[1] ?? Number.NaN);
    if (Number.isNaN(length)) {
      out += `${headers}\n\n`;
      pos = end + 2;
      continue;
    }
    const body = change(text.slice(end + 2, end + 2 + length));
    out += `${headers.replace(/^Content-Length: \d+$/m, `Content-Length: ${Buffer.byteLength(body, "latin1")}`)}\n\n${body}`;
    pos = end + 2 + length;
  }
  return Buffer.from(out, "latin1");
}

/**
 * Hand-adapted from fs-real-19s-eavesdrop-A.txt: the recorder's eavesdrop originate as the driver
 * sends it now, `callmesh_call_id=<spy_call_id>` first in its `{…}`, so the supervisor's leg
 * carries `variable_callmesh_call_id` beside its other origination variables, and the originate's
 * echoes (API, BACKGROUND_JOB) name it. Split at the recorder's bgapi reply (1001 answered the
 * caller), before the supervisor's CHANNEL_HANGUP (1005 listening), and the rest.
 */
function capture19s(): { head: Buffer; spy: Buffer; tail: Buffer } {
  const adapted = reframe(captureStream("fs-real-19s-eavesdrop-A.txt"), (body) =>
    body
      .replace(
        /^(Unique-ID: 0a497175-[\s\S]*?variable_originate_timeout: 20\n)/m,
        `$1variable_callmesh_call_id: ${SPY_CALL_ID}\n`,
      )
      .replace(/^((?:API-Command-Argument|Job-Command-Arg): %7B)/m, `$1callmesh_call_id%3D${SPY_CALL_ID},`),
  );
  const reply = adapted.indexOf("Content-Type: command/reply\nReply-Text: +OK Job-UUID");
  const afterReply = adapted.indexOf("\n\n", reply) + 2;
  const hangup = adapted.lastIndexOf("Content-Length:", adapted.indexOf("Event-Name: CHANNEL_HANGUP\n"));
  return {
    head: adapted.subarray(0, reply),
    spy: adapted.subarray(afterReply, hangup),
    tail: adapted.subarray(hangup),
  };
}

describe("ESL supervision session of a Spy nobody answers", () => {
  it("the supervisor's leg is held back, ends unreported, and the session with it", () => {
    const outputs: CallOutput[] = [];
    const tracker = createEslCallTracker({ agentId: "agent-1", onOutput: (output) => outputs.push(output) });
    tracker.expectSpy(SPY_CALL_ID, "1005");
    const atUs = 1_796_126_910_000_000;
    const frame = (name: string, extra: Record<string, string> = {}) =>
      EslEvent.fromHeaders(
        new Map(
          Object.entries({
            "Event-Name": name,
            "Unique-ID": SUPERVISOR_LEG,
            "Event-Date-Timestamp": String(atUs),
            "Channel-Name": "sofia/internal/1005@127.0.0.1:6005",
            "Call-Direction": "outbound",
            "Caller-Channel-Created-Time": String(atUs),
            "Caller-Destination-Number": "1005",
            variable_dialed_user: "1005",
            variable_callmesh_call_id: SPY_CALL_ID,
            ...extra,
          }),
        ),
      );
    tracker.handle(frame("CHANNEL_CREATE"));
    assert.equal(tracker.findSpySession(SPY_CALL_ID)?.leg?.uuid, SUPERVISOR_LEG);
    assert.deepEqual(tracker.liveCalls(), [], "no call of its own");
    tracker.handle(frame("CHANNEL_HANGUP", { "Hangup-Cause": "NO_ANSWER" }));
    tracker.handle(frame("CHANNEL_HANGUP_COMPLETE", { "Hangup-Cause": "NO_ANSWER" }));
    tracker.flush();
    assert.deepEqual(outputs, []);
    assert.equal(tracker.findSpySession(SPY_CALL_ID), undefined);
    assert.equal(tracker.activeCalls, 0);
  });
});

describe("ESL supervision sessions by spy_call_id", () => {
  let cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups = [];
  });

  async function boot(): Promise<{ server: EslTestServer; driver: EslDriver; events: CallEvent[]; cdrs: Cdr[] }> {
    const capture = capture19s();
    const server = await EslTestServer.start({
      password: "ClueCon",
      afterLogin: capture.head,
      onBgapi: (_command, headers) =>
        `Content-Type: command/reply\nReply-Text: +OK Job-UUID: ${headers.get("Job-UUID")}\nJob-UUID: ${headers.get("Job-UUID")}\n\n`,
      onApi: (command) => (command.startsWith("uuid_kill ") ? "+OK\n" : undefined),
    });
    cleanups.push(() => server.close());
    const driver = createEslDriver({
      host: "127.0.0.1",
      port: server.port,
      password: "ClueCon",
      agentId: "agent-1",
      logger,
      pingIntervalMs: 0,
      originateVerdictMs: 20,
      trunkGateways: ["provider"],
    });
    const events: CallEvent[] = [];
    const cdrs: Cdr[] = [];
    driver.onOutput((output) => {
      if (output.kind === "event") events.push(output.event);
      else cdrs.push(output.cdr);
    });
    driver.start();
    cleanups.push(() => driver.stop());
    await until("the caller answered by 1001", () => events.some((event) => event.kind === CallEventKind.ANSWERED));
    return { server, driver, events, cdrs };
  }

  it("the supervisor's leg carries the spy_call_id; Hangup and ListCalls address it, nothing else does", async () => {
    const { server, driver, events, cdrs } = await boot();
    const callId = events[0]?.callId ?? "";
    const list = async (id: string) => {
      const outcome = await driver.control(ctl("listCalls", { callId: id }));
      return { outcome, calls: outcome.detail?.case === "calls" ? outcome.detail.value.calls : [] };
    };
    const spied = await driver.control(ctl("spy", { callId, supervisor: "1005", spyCallId: SPY_CALL_ID }));
    assert.equal(spied.status, CommandStatus.OK, spied.message);
    const originate = server.received.find((command) => command.startsWith("bgapi originate"));
    assert.equal(
      originate,
      `bgapi originate {callmesh_call_id=${SPY_CALL_ID},origination_caller_id_number=1005,originate_timeout=30,eavesdrop_enable_dtmf=false}user/1005 &eavesdrop(08ae2cec-b36f-476d-9659-f670af6e879b)`,
    );
    assert.equal((await list(SPY_CALL_ID)).calls[0]?.state, ActiveCallState.RINGING, "queued: the session is there");

    const capture = capture19s();
    server.push(capture.spy);
    await until("the supervisor's leg folded into the spied call", () => driver.stats.tracker.callsFolded === 1);
    const { calls } = await list(SPY_CALL_ID);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.callId, SPY_CALL_ID);
    assert.equal(calls[0]?.pbxCallId, SUPERVISOR_LEG);
    assert.equal(calls[0]?.state, ActiveCallState.ANSWERED);
    assert.equal(calls[0]?.answeredBy, "1005");
    assert.deepEqual(
      (await list("")).calls.map((call) => call.callId),
      [callId],
      "ListCalls without an id leaves supervision out",
    );
    for (const action of [
      ctl("hold", { callId: SPY_CALL_ID }),
      ctl("transfer", { callId: SPY_CALL_ID, destination: "1002" }),
      ctl("spy", { callId: SPY_CALL_ID, supervisor: "1006" }),
    ]) {
      const outcome = await driver.control(action);
      assert.equal(outcome.status, CommandStatus.WRONG_CALL_STATE, action.case);
      assert.match(outcome.message, /supervision session/);
    }

    const hungUp = await driver.control(ctl("hangup", { callId: SPY_CALL_ID }));
    assert.equal(hungUp.status, CommandStatus.OK, hungUp.message);
    assert.deepEqual(
      server.received.filter((command) => command.startsWith("api uuid_kill")),
      [`api uuid_kill ${SUPERVISOR_LEG}`],
      "the supervisor's leg only",
    );

    server.push(capture.tail);
    await until("the customer call's Cdr", () => cdrs.length === 1);
    assert.equal((await list(SPY_CALL_ID)).outcome.status, CommandStatus.CALL_NOT_FOUND, "forgotten at its end");
    assert.equal((await driver.control(ctl("hangup", { callId: SPY_CALL_ID }))).status, CommandStatus.CALL_NOT_FOUND);
    assert.deepEqual([...new Set(events.map((event) => event.callId))], [callId], "the supervisor is in no event");
    assert.equal(cdrs[0]?.callId, callId);
    assert.equal(cdrs[0]?.answeredBy, "1001");
  });
});
