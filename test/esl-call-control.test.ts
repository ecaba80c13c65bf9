// Call control on FreeSWITCH, end to end: CRM API → gateway → agent (ESL driver) → simulated
// event socket (real FreeSWITCH 1.10 recordings). Each RPC sends the api command FreeSWITCH
// needs (the simulator records it), the call's events change as the captures show (fs-real-14n,
// 15o, 19s, 21u) or as FreeSWITCH is modeled to (uuid_kill, uuid_hold), and refusals come back
// as the right Connect code.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { type CallEvent, CallEventKind, CallEventSchema } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { createEslDriver } from "@callmesh/pbx-agent/drivers/esl/esl-driver.js";
import type { CallOutput } from "@callmesh/pbx-agent/ports/pbx-driver.js";
import { type EslControlScenario, type EslSimulator, startEslSimulator } from "@callmesh/pbx-sim/esl/esl-simulator.js";
import { Topic } from "@callmesh/platform/event-log/event-log.js";
import { createLogger } from "@callmesh/platform/logging.js";
import { reasonOf } from "./support/connect-json.js";
import { eventually } from "./support/processes.js";
import { postJson, startTestServer, type TestServer } from "./support/server.js";
import { startTestAgent, type TestAgent } from "./support/test-agent.js";

const TEST = { timeout: 30_000 };
const rpc = (name: string) => `callmesh.crm.v1.CallService/${name}`;
type Json = Record<string, unknown>;

describe("call control on FreeSWITCH, through the gateway", () => {
  let server: TestServer;
  let sim: EslSimulator;
  let testAgent: TestAgent;
  const events: CallEvent[] = [];
  const consuming = new AbortController();
  let consumer: Promise<void> | undefined;
  let nextCaller = 100;

  before(async () => {
    server = await startTestServer();
    sim = await startEslSimulator({
      timeScale: 0.05,
      heartbeatIntervalMs: 0,
      extensions: Object.fromEntries(
        ["1001", "1002", "1003", "1004", "1005"].map((extension) => [extension, "answers" as const]),
      ),
      logger: createLogger("pbx-sim", "silent"),
    });
    consumer = server.eventLog.consume({
      group: "esl-call-control-test",
      topic: Topic.callEvents,
      signal: consuming.signal,
      handle: async (batch) => {
        for (const record of batch) events.push(fromBinary(CallEventSchema, record.value));
      },
    });
    testAgent = await startTestAgent(
      server,
      { kind: "freeswitch", port: sim.port },
      { PBX_TRUNK_GATEWAYS: "provider" },
    );
  });

  after(async () => {
    consuming.abort();
    await consumer?.catch(() => undefined);
    await testAgent?.dispose();
    await sim?.close();
    await server?.stop();
  });

  const kinds = (callId: string) => events.filter((event) => event.callId === callId).map((event) => event.kind);
  const sent = (prefix: string) => sim.commands.filter((command) => command.command.startsWith(prefix));
  const call = (name: string, body: Json) => postJson(server.url, rpc(name), body);
  const cdrOf = (callId: string) =>
    eventually(
      async () =>
        ((await postJson(server.url, "callmesh.crm.v1.CdrService/ListCdrs", {})).json.cdrs as Json[] | undefined)?.find(
          (cdr) => cdr.callId === callId,
        ),
      15_000,
      "CDR listed",
    );

  const cdrList = async () =>
    ((await postJson(server.url, "callmesh.crm.v1.CdrService/ListCdrs", {})).json.cdrs ?? []) as Json[];
  /** Past the agent's Cdr grace time, the call still has exactly one Cdr. */
  const assertOneCdr = async (callId: string) => {
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    assert.equal((await cdrList()).filter((cdr) => cdr.callId === callId).length, 1);
  };

  /** Plays the scenario's inbound call until 1001 answered and the gateway knows it; its id, legs, and end. */
  async function answeredCall(scenario: EslControlScenario, maxWaitMs = 15_000) {
    const from = `+357991${nextCaller++}`;
    const played = sim.playControlledCall(scenario, { from, maxWaitMs });
    const answered = await eventually(
      async () => events.find((event) => event.kind === CallEventKind.ANSWERED && event.fromNumber === from),
      10_000,
      "ANSWERED reached the gateway",
    );
    const legs = await eventually(
      async () => {
        const rows = sim.channels();
        const agentLeg = rows.find((row) => row.name.startsWith("sofia/internal/1001@") && row.callstate === "ACTIVE");
        const caller = rows.find((row) => row.name.startsWith("sofia/external/") && row.cid_num === from);
        return agentLeg && caller ? { agent: agentLeg.uuid, caller: caller.uuid } : undefined;
      },
      5000,
      "both legs up",
    );
    return { callId: answered.callId, played, ...legs };
  }

  async function refusedWith(name: string, body: Json, code: string, reason: string) {
    const { status, json } = await call(name, body);
    assert.notEqual(status, 200, `${name}: ${JSON.stringify(json)}`);
    assert.equal(json.code, code, `${name}: ${JSON.stringify(json)}`);
    assert.equal(reasonOf(json), reason, name);
  }

  it("a call id nobody has is not_found, and nothing reaches FreeSWITCH", TEST, async () => {
    const before = sim.commands.length;
    await refusedWith("Hangup", { callId: "no-such-call" }, "not_found", "call_not_found");
    assert.deepEqual(
      sim.commands.slice(before).filter((command) => !command.command.startsWith("api status")),
      [],
    );
  });

  it(
    "Hold / Resume are uuid_hold / uuid_hold off of the caller's leg: HELD, RESUMED; SendDtmf, AddToConference; Hangup kills both legs",
    TEST,
    async () => {
      const { callId, played, caller, agent: agentLeg } = await answeredCall("answered");
      const got = await call("GetCall", { callId });
      assert.equal(got.status, 200, JSON.stringify(got.json));
      const active = got.json.call as Json;
      assert.equal(active.state, "ACTIVE_CALL_STATE_ANSWERED");
      assert.equal(active.answeredBy, "1001");
      assert.equal((active.legs as Json[]).length, 2);

      await refusedWith("Resume", { callId }, "failed_precondition", "wrong_call_state");
      assert.equal((await call("Hold", { callId })).status, 200);
      assert.deepEqual(
        sent("api uuid_hold").map((command) => command.command),
        [`api uuid_hold ${caller}`],
      );
      await eventually(async () => kinds(callId).includes(CallEventKind.HELD) || undefined, 5000, "HELD");
      const held = await call("GetCall", { callId });
      assert.equal((held.json.call as Json).state, "ACTIVE_CALL_STATE_HELD");
      assert.equal((await call("Resume", { callId })).status, 200);
      assert.equal(sent("api uuid_hold off").at(-1)?.command, `api uuid_hold off ${caller}`);
      await eventually(async () => kinds(callId).includes(CallEventKind.RESUMED) || undefined, 5000, "RESUMED");

      assert.equal((await call("SendDtmf", { callId, digits: "12#" })).status, 200);
      assert.equal(sent("api uuid_send_dtmf").at(-1)?.command, `api uuid_send_dtmf ${caller} 12#`);
      assert.equal((await call("AddToConference", { callId, room: "sales-weekly" })).status, 200);
      assert.equal(
        sent("api uuid_transfer").at(-1)?.command,
        `api uuid_transfer ${caller} -both conference:sales-weekly@default inline`,
      );
      await refusedWith("Intercept", { callId, extension: "1004" }, "failed_precondition", "wrong_call_state");
      await refusedWith("Hangup", { callId, party: "1009" }, "failed_precondition", "wrong_call_state");

      assert.equal((await call("Hangup", { callId })).status, 200);
      assert.deepEqual(
        sent("api uuid_kill").map((command) => command.command),
        [`api uuid_kill ${caller}`, `api uuid_kill ${agentLeg}`],
      );
      await played;
      const cdr = await cdrOf(callId);
      assert.equal(cdr.answeredBy, "1001");
      assert.equal(kinds(callId).filter((kind) => kind === CallEventKind.HANGUP).length, 1);
      await refusedWith("Hangup", { callId }, "not_found", "call_not_found");
    },
  );

  it("a blind Transfer is fs-real-14n's uuid_transfer -bleg: TRANSFERRED to 1002, one CDR", TEST, async () => {
    const { callId, played, agent: agentLeg } = await answeredCall("blindTransfer");
    await refusedWith(
      "Transfer",
      { callId, destination: "1002", party: "1077" },
      "failed_precondition",
      "wrong_call_state",
    );
    const { status, json } = await call("Transfer", { callId, destination: "1002" });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(sent("api uuid_transfer").at(-1)?.command, `api uuid_transfer ${agentLeg} -bleg 1002 XML default`);
    await played;
    const transferred = await eventually(
      async () => events.find((event) => event.callId === callId && event.kind === CallEventKind.TRANSFERRED),
      10_000,
      "TRANSFERRED",
    );
    assert.equal(transferred.transferredTo, "1002");
    const cdr = await cdrOf(callId);
    assert.equal(cdr.transferredTo, "1002");
    assert.equal(kinds(callId).filter((kind) => kind === CallEventKind.HANGUP).length, 1);
  });

  it("an attended Transfer is fs-real-15o's uuid_broadcast att_xfer: 1003 ends up with the caller", TEST, async () => {
    const { callId, played, agent: agentLeg } = await answeredCall("attendedTransfer");
    const { status, json } = await call("Transfer", { callId, destination: "1003", mode: "TRANSFER_MODE_ATTENDED" });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(sent("api uuid_broadcast").at(-1)?.command, `api uuid_broadcast ${agentLeg} att_xfer::user/1003 aleg`);
    await played;
    const cdr = await cdrOf(callId);
    assert.equal(cdr.transferredTo, "1003");
    assert.equal(kinds(callId).filter((kind) => kind === CallEventKind.HANGUP).length, 1);
  });

  it("Spy originates the supervisor into eavesdrop of 1001's leg (fs-real-19s); no call of its own", TEST, async () => {
    const { callId, played, agent: agentLeg } = await answeredCall("spy");
    await refusedWith("Spy", { callId, supervisor: "1099" }, "not_found", "extension_unknown");
    await refusedWith("Spy", { callId, supervisor: "1001" }, "failed_precondition", "wrong_call_state");
    const { status, json } = await call("Spy", { callId, supervisor: "1005", mode: "SPY_MODE_LISTEN" });
    assert.equal(status, 200, JSON.stringify(json));
    // The driver may name the supervisor's session first (callmesh_call_id, its spy_call_id).
    const spyCommand = String(sent("bgapi originate").at(-1)?.command);
    assert.equal(
      spyCommand.replace(/\{callmesh_call_id=[^,}]*,/, "{"),
      `bgapi originate {origination_caller_id_number=1005,originate_timeout=30,eavesdrop_enable_dtmf=false}user/1005 &eavesdrop(${agentLeg})`,
    );
    await played;
    const cdr = await cdrOf(callId);
    assert.equal(cdr.answeredBy, "1001");
    assert.deepEqual(cdr.rungExtensions, ["1001"]);
    // The supervisor's leg is a monitor of this call: no other call started for 1005.
    assert.ok(!events.some((event) => event.callId !== callId && event.extension === "1005"));
  });

  it("Park sends the caller to valet slot 701 as fs-real-21u; 1002 picks it up", TEST, async () => {
    const { callId, played, agent: agentLeg } = await answeredCall("park");
    const { status, json } = await call("Park", { callId });
    assert.equal(status, 200, JSON.stringify(json));
    assert.deepEqual(json, { parkedAt: "701" });
    assert.equal(sent("api uuid_transfer").at(-1)?.command, `api uuid_transfer ${agentLeg} -bleg 701 XML default`);
    await played;
    const cdr = await cdrOf(callId);
    assert.equal(kinds(callId).filter((kind) => kind === CallEventKind.HANGUP).length, 1);
    assert.equal(cdr.transferredTo, "1002");
  });

  it("presence: ListPresence answers FreeSWITCH's latest states; a transfer leaves 1002 idle", TEST, async () => {
    const { callId, played } = await answeredCall("blindTransfer");
    const during = await postJson(server.url, "callmesh.crm.v1.PresenceService/ListPresence", {});
    assert.equal(during.status, 200, JSON.stringify(during.json));
    const stateOf = (json: Json, extension: string) =>
      ((json.entries ?? []) as Json[]).find((entry) => entry.extension === extension)?.state;
    assert.equal(stateOf(during.json, "1001"), "PRESENCE_STATE_IN_USE");
    assert.equal((await call("Transfer", { callId, destination: "1002" })).status, 200);
    await played;
    const afterwards = await postJson(server.url, "callmesh.crm.v1.PresenceService/ListPresence", {});
    assert.equal(stateOf(afterwards.json, "1002"), "PRESENCE_STATE_IDLE");
    assert.equal(stateOf(afterwards.json, "1001"), "PRESENCE_STATE_IDLE");
  });

  it(
    "recovery: the agent restarts mid-call; show channels rebuilds it: one ANSWERED, one HANGUP, one CDR, talk time kept",
    TEST,
    async () => {
      const { callId, played, caller } = await answeredCall("answered", 20_000);
      await testAgent.stop();
      testAgent = await testAgent.restart();
      assert.ok(sent("api show channels as json").length >= 2, "each login asks FreeSWITCH what it has");
      // The restarted agent knows the call: it is listed, and can be hung up.
      const got = await eventually(
        async () => {
          const reply = await call("ListActiveCalls", {});
          return ((reply.json.calls ?? []) as Json[]).find((active) => active.callId === callId);
        },
        5000,
        "the recovered call listed",
      );
      assert.equal(got.state, "ACTIVE_CALL_STATE_ANSWERED");
      assert.equal(got.answeredBy, "1001");
      await new Promise((resolve) => setTimeout(resolve, 4000));
      assert.equal((await call("Hangup", { callId })).status, 200);
      assert.ok(sent("api uuid_kill").some((command) => command.command === `api uuid_kill ${caller}`));
      await played;
      const cdr = await cdrOf(callId);
      await eventually(async () => kinds(callId).includes(CallEventKind.HANGUP) || undefined, 5000, "HANGUP");
      const all = kinds(callId);
      assert.equal(all.filter((kind) => kind === CallEventKind.ANSWERED).length, 1, JSON.stringify(all));
      assert.equal(all.filter((kind) => kind === CallEventKind.HANGUP).length, 1, JSON.stringify(all));
      // Talk runs on FreeSWITCH's clock: from the answer it reported to the hangup (billsec).
      const talked = Math.round((Date.parse(String(cdr.endedAt)) - Date.parse(String(cdr.answeredAt))) / 1000);
      assert.ok(talked >= 2, `answered ${cdr.answeredAt}, ended ${cdr.endedAt}`);
      assert.ok(Math.abs(Number(cdr.talkSeconds ?? 0) - talked) <= 1, `talk ${cdr.talkSeconds} s, about ${talked} s`);
      const ids = events.filter((event) => event.callId === callId).map((event) => event.eventId);
      assert.equal(new Set(ids).size, ids.length);
    },
  );

  it(
    "recovery: the PBX connection drops and the call hangs up meanwhile: after the reconnect, one HANGUP and one CDR",
    TEST,
    async () => {
      const { callId, played, caller } = await answeredCall("answered", 20_000);
      const logins = sent("api show channels as json").length;
      sim.dropConnections(1500);
      // FreeSWITCH hangs the call up while nobody listens: its events reach no agent.
      await sim.hangUp(caller);
      await played;
      await eventually(
        async () => sent("api show channels as json").length > logins || undefined,
        15_000,
        "logged in again and asked what FreeSWITCH has",
      );
      const cdr = await cdrOf(callId);
      assert.equal(cdr.answeredBy, "1001");
      assert.equal(cdr.status, "CALL_STATUS_SUCCESS");
      const all = kinds(callId);
      assert.equal(all.filter((kind) => kind === CallEventKind.ANSWERED).length, 1, JSON.stringify(all));
      assert.equal(all.filter((kind) => kind === CallEventKind.HANGUP).length, 1, JSON.stringify(all));
      await refusedWith("Hangup", { callId }, "not_found", "call_not_found");
    },
  );

  it(
    "Intercept of a ringing call: 1004 rings, answers and is bridged to the caller; one HANGUP, one CDR",
    TEST,
    async () => {
      const from = `+357991${nextCaller++}`;
      const played = sim.playControlledCall("ringing", { from, maxWaitMs: 10_000 });
      const ringing = await eventually(
        async () => events.find((event) => event.kind === CallEventKind.RINGING && event.fromNumber === from),
        10_000,
        "RINGING reached the gateway",
      );
      const callId = ringing.callId;
      const leg = sim.channels().find((row) => row.name.startsWith("sofia/internal/1001@"));
      assert.ok(leg, "1001 rings");
      const callerLeg = sim.channels().find((row) => row.name.startsWith("sofia/external/"));
      assert.ok(callerLeg, "the caller's leg");
      await refusedWith("Hold", { callId }, "failed_precondition", "wrong_call_state");
      await refusedWith("Intercept", { callId, extension: "1099" }, "not_found", "extension_unknown");
      const { status, json } = await call("Intercept", { callId, extension: "1004" });
      assert.equal(status, 200, JSON.stringify(json));
      assert.equal(
        sent("bgapi originate").at(-1)?.command,
        `bgapi originate {origination_caller_id_number=1004,originate_timeout=30}user/1004 &intercept(${callerLeg.uuid})`,
      );
      // 1001's ringing leg hangs up (PICKED_OFF), 1004 answers, and the caller is bridged to it.
      const answered = await eventually(
        async () => events.find((event) => event.callId === callId && event.kind === CallEventKind.ANSWERED),
        10_000,
        "ANSWERED",
      );
      assert.equal(answered.extension, "1004");
      const got = await call("GetCall", { callId });
      assert.equal((got.json.call as Json).answeredBy, "1004");
      assert.ok(!sim.channels().some((row) => row.uuid === leg.uuid), "1001's leg is gone");
      assert.equal((await call("Hangup", { callId })).status, 200);
      await played;
      const cdr = await cdrOf(callId);
      assert.equal(cdr.answeredBy, "1004");
      await eventually(async () => kinds(callId).includes(CallEventKind.HANGUP) || undefined, 5000, "HANGUP");
      assert.equal(kinds(callId).filter((kind) => kind === CallEventKind.ANSWERED).length, 1);
      assert.equal(kinds(callId).filter((kind) => kind === CallEventKind.HANGUP).length, 1);
      await assertOneCdr(callId);
    },
  );

  it("AddToConference moves both legs into the room; the call stays tracked until hung up", TEST, async () => {
    const { callId, played, caller, agent: agentLeg } = await answeredCall("answered");
    assert.equal((await call("AddToConference", { callId, room: "sales-weekly" })).status, 200);
    assert.equal(
      sent("api uuid_transfer").at(-1)?.command,
      `api uuid_transfer ${caller} -both conference:sales-weekly@default inline`,
    );
    // The simulator plays the room's events at once; the agent has them well within this.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const got = await call("GetCall", { callId });
    assert.equal(got.status, 200, JSON.stringify(got.json));
    assert.equal((got.json.call as Json).callId, callId);
    assert.ok(sim.channels().some((row) => row.uuid === agentLeg && row.application === "conference"));
    assert.equal((await call("Hangup", { callId })).status, 200);
    await played;
    await cdrOf(callId);
    await eventually(async () => kinds(callId).includes(CallEventKind.HANGUP) || undefined, 5000, "HANGUP");
    assert.equal(kinds(callId).filter((kind) => kind === CallEventKind.HANGUP).length, 1);
    await assertOneCdr(callId);
  });

  it(
    "Spy of a call no capture spies on: the supervisor's leg rings, answers and listens; no call of its own",
    TEST,
    async () => {
      const { callId, played, agent: agentLeg } = await answeredCall("answered");
      const before = events.length;
      const { status, json } = await call("Spy", { callId, supervisor: "1005" });
      assert.equal(status, 200, JSON.stringify(json));
      const supervisor = await eventually(
        async () =>
          sim.channels().find((row) => row.name.startsWith("sofia/internal/1005@") && row.callstate === "ACTIVE"),
        5000,
        "the supervisor's leg up",
      );
      assert.equal(supervisor.application, "eavesdrop");
      assert.equal(supervisor.application_data, agentLeg);
      assert.equal((await call("Hangup", { callId })).status, 200);
      await played;
      await cdrOf(callId);
      await eventually(
        async () => (sim.channels().some((row) => row.uuid === supervisor.uuid) ? undefined : true),
        5000,
        "the supervisor's leg ends with the spied call",
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.ok(!events.slice(before).some((event) => event.callId !== callId), "no CRM event of another call");
      await assertOneCdr(callId);
      assert.equal(
        (await cdrList()).filter((cdr) => cdr.answeredBy === "1005" || cdr.callId === supervisor.uuid).length,
        0,
      );
    },
  );

  it(
    "Spy answers the supervisor call's id: Hangup with it kills the supervisor's leg only, other actions are refused",
    TEST,
    async () => {
      const { callId, played, agent: agentLeg } = await answeredCall("answered");
      const before = events.length;
      const { status, json } = await call("Spy", { callId, supervisor: "1005" });
      assert.equal(status, 200, JSON.stringify(json));
      const spyCallId = String(json.spyCallId);
      assert.match(spyCallId, /^[0-9a-f-]{36}$/);
      assert.match(
        String(sent("bgapi originate").at(-1)?.command),
        new RegExp(`^bgapi originate \\{callmesh_call_id=${spyCallId},`),
      );
      const supervisor = await eventually(
        async () =>
          sim.channels().find((row) => row.name.startsWith("sofia/internal/1005@") && row.callstate === "ACTIVE"),
        5000,
        "the supervisor's leg up",
      );
      await refusedWith("Hold", { callId: spyCallId }, "failed_precondition", "wrong_call_state");
      const ended = await call("Hangup", { callId: spyCallId });
      assert.equal(ended.status, 200, JSON.stringify(ended.json));
      assert.equal(sent("api uuid_kill").at(-1)?.command, `api uuid_kill ${supervisor.uuid}`);
      await eventually(
        async () => (sim.channels().some((row) => row.uuid === supervisor.uuid) ? undefined : true),
        5000,
        "the supervisor's leg gone",
      );
      // The spied call goes on, untouched, until it is hung up.
      assert.ok(
        sim.channels().some((row) => row.uuid === agentLeg),
        "1001 still talks",
      );
      const got = await call("GetCall", { callId });
      assert.equal((got.json.call as Json).state, "ACTIVE_CALL_STATE_ANSWERED");
      await refusedWith("Hangup", { callId: spyCallId }, "not_found", "call_not_found");
      assert.equal((await call("Hangup", { callId })).status, 200);
      await played;
      await cdrOf(callId);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.ok(!events.slice(before).some((event) => event.callId !== callId), "no CRM event of another call");
      await assertOneCdr(callId);
    },
  );

  it(
    "with a state dir, an ESL driver restarted mid-call goes on with the next sequence: 1 RINGING, 2 ANSWERED, 3 HANGUP",
    TEST,
    async () => {
      // The driver alone (the agent's factory decides whether it keeps state files), on the same switch.
      const stateDir = mkdtempSync(join(tmpdir(), "callmesh-esl-calls-"));
      const outputs: CallOutput[] = [];
      const logger = createLogger("esl-driver", "silent");
      const start = () => {
        const driver = createEslDriver({
          host: "127.0.0.1",
          port: sim.port,
          password: "ClueCon",
          agentId: "agent-with-state",
          logger,
          stateDir,
          pingIntervalMs: 0,
        });
        driver.onOutput((output) => outputs.push(output));
        driver.start();
        return driver;
      };
      let driver = start();
      try {
        await eventually(async () => driver.connected || undefined, 5000, "driver logged in");
        const from = `+357991${nextCaller++}`;
        const played = sim.playControlledCall("answered", { from, maxWaitMs: 3000 });
        const answered = await eventually(
          async () =>
            outputs.find(
              (output) =>
                output.kind === "event" &&
                output.event.kind === CallEventKind.ANSWERED &&
                output.event.fromNumber === from,
            ),
          5000,
          "ANSWERED",
        );
        await driver.stop();
        driver = start();
        await played;
        const cdr = await eventually(async () => outputs.find((output) => output.kind === "cdr"), 5000, "the Cdr");
        const mine = outputs.flatMap((output) =>
          output.kind === "event" && answered.kind === "event" && output.event.callId === answered.event.callId
            ? [[output.event.sequence, CallEventKind[output.event.kind]]]
            : [],
        );
        assert.deepEqual(mine, [
          [1, "RINGING"],
          [2, "ANSWERED"],
          [3, "HANGUP"],
        ]);
        assert.equal(cdr.kind === "cdr" ? cdr.cdr.talkSeconds : -1, 3);
      } finally {
        await driver.stop();
        rmSync(stateDir, { recursive: true, force: true });
      }
    },
  );
});
