// Call control end to end on Asterisk: CRM API (Connect JSON, as curl) → gateway → agent
// stream → pbx-agent's AMI driver → the AMI simulator replaying real Asterisk 20 captures.
// Each RPC must reach the PBX as the right action, change the call as Asterisk would, and
// come back as the right answer or Connect code.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { type CallEvent, CallEventKind, CallEventSchema } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { type AmiSimulator, type ControlScenario, startAmiSimulator } from "@callmesh/pbx-sim/ami/ami-simulator.js";
import { Topic } from "@callmesh/platform/event-log/event-log.js";
import { createLogger } from "@callmesh/platform/logging.js";
import { eventually } from "./support/processes.js";
import { postJson, readTopic, startTestServer, type TestServer, testCredentials } from "./support/server.js";
import { startTestAgent } from "./support/test-agent.js";

type Json = Record<string, unknown>;
const rpc = (name: string) => `callmesh.crm.v1.CallService/${name}`;
const reasonOf = (json: Json) => ((json.details as Json[] | undefined)?.[0]?.debug as Json | undefined)?.reason;
const TEST = { timeout: 60_000 };

describe("call control through the gateway on Asterisk", () => {
  let server: TestServer;
  let sim: AmiSimulator;
  let stop: () => Promise<void>;
  const viewerKey = "cmk_viewer_only";

  before(async () => {
    ({ server, sim, stop } = await startSystem(0.2));
    await server.directory.addApiKey(testCredentials.tenantId, viewerKey, []);
  });
  after(() => stop());

  /** Plays the scenario's inbound call; resolves with its call id once the API lists it answered. */
  async function answeredCall(scenario: ControlScenario) {
    const known = new Set<unknown>();
    const listed = async () => ((await postJson(server.url, rpc("ListActiveCalls"), {})).json.calls ?? []) as Json[];
    for (const call of await listed()) known.add(call.callId);
    const played = sim.playControlledCall(scenario, { maxWaitMs: 20_000 });
    const call = await eventually(
      async () => (await listed()).find((c) => !known.has(c.callId) && c.state === "ACTIVE_CALL_STATE_ANSWERED"),
      15_000,
      "the call answered, listed by the API",
    );
    await new Promise((resolve) => setTimeout(resolve, 100)); // the bridge is up once 1001 answered
    return { call, callId: String(call.callId), played };
  }

  const eventsOf = async (callId: string, until: (kinds: string[]) => boolean) => {
    const kindsIn = (records: { key: string; value: Uint8Array }[]) =>
      records
        .filter((record) => record.key === callId)
        .map((record) => CallEventKind[fromBinary(CallEventSchema, record.value).kind] ?? "");
    return kindsIn(await readTopic(server.eventLog, Topic.callEvents, (records) => until(kindsIn(records)), 20_000));
  };
  const actionsNamed = (name: string) => sim.actions.filter((action) => action.name === name);

  it("ListActiveCalls and GetCall show the answered call; Hangup ends it; then it is not found", TEST, async () => {
    const { call, callId, played } = await answeredCall("blindTransfer");
    assert.equal(call.answeredBy, "1001");
    assert.equal(call.tenantId, testCredentials.tenantId);
    assert.equal(call.agentId, testCredentials.agentId);
    const got = await postJson(server.url, rpc("GetCall"), { callId });
    assert.equal(got.status, 200, JSON.stringify(got.json));
    assert.equal((got.json.call as Json).callId, callId);

    const wrongParty = await postJson(server.url, rpc("Hangup"), { callId, party: "9999" });
    assert.equal(wrongParty.json.code, "failed_precondition");
    assert.equal(reasonOf(wrongParty.json), "wrong_call_state");

    const hangup = await postJson(server.url, rpc("Hangup"), { callId });
    assert.equal(hangup.status, 200, JSON.stringify(hangup.json));
    assert.ok(actionsNamed("Hangup").length > 0, "the PBX got Action: Hangup");
    await played;
    const kinds = await eventsOf(callId, (k) => k.includes("HANGUP"));
    assert.equal(kinds.filter((kind) => kind === "HANGUP").length, 1);
    await eventually(
      async () =>
        (await postJson(server.url, rpc("GetCall"), { callId })).json.code === "not_found" ? true : undefined,
      10_000,
      "GetCall not_found once ended",
    );
    const again = await postJson(server.url, rpc("Hangup"), { callId });
    assert.equal(again.json.code, "not_found");
  });

  it("Transfer sends BlindTransfer of 1001 to 1002 and the call is TRANSFERRED", TEST, async () => {
    const { callId, played } = await answeredCall("blindTransfer");
    const transfer = await postJson(server.url, rpc("Transfer"), {
      callId,
      destination: "1002",
      mode: "TRANSFER_MODE_BLIND",
    });
    assert.equal(transfer.status, 200, JSON.stringify(transfer.json));
    const sent = actionsNamed("BlindTransfer").at(-1);
    assert.match(String(sent?.fields.Channel), /^PJSIP\/1001-/);
    assert.equal(sent?.fields.Exten, "1002");
    await played;
    const kinds = await eventsOf(callId, (k) => k.includes("HANGUP"));
    assert.ok(kinds.indexOf("TRANSFERRED") >= 0 && kinds.indexOf("TRANSFERRED") < kinds.indexOf("HANGUP"), `${kinds}`);
  });

  it("an attended Transfer sends Atxfer to 1003", TEST, async () => {
    const { callId, played } = await answeredCall("attendedTransfer");
    const transfer = await postJson(server.url, rpc("Transfer"), {
      callId,
      destination: "1003",
      mode: "TRANSFER_MODE_ATTENDED",
    });
    assert.equal(transfer.status, 200, JSON.stringify(transfer.json));
    assert.equal(actionsNamed("Atxfer").at(-1)?.fields.Exten, "1003");
    await played;
    const kinds = await eventsOf(callId, (k) => k.includes("HANGUP"));
    assert.ok(kinds.includes("TRANSFERRED"), `${kinds}`);
  });

  it("Park answers the parking space the PBX chose", TEST, async () => {
    const { callId, played } = await answeredCall("park");
    const park = await postJson(server.url, rpc("Park"), { callId });
    assert.equal(park.status, 200, JSON.stringify(park.json));
    assert.equal(park.json.parkedAt, "701");
    assert.match(String(actionsNamed("Park").at(-1)?.fields.Channel), /^PJSIP\/provider-/);
    await played;
  });

  it("Spy rings the supervisor into ChanSpy; a key without calls:supervise is refused", TEST, async () => {
    const { callId, played } = await answeredCall("spy");
    const before = await keysOf(server);
    const refused = await postJson(server.url, rpc("Spy"), { callId, supervisor: "1005" }, viewerKey);
    assert.equal(refused.json.code, "permission_denied");
    assert.match(String(refused.json.message), /calls:supervise/);
    const spy = await postJson(server.url, rpc("Spy"), { callId, supervisor: "1005", mode: "SPY_MODE_WHISPER" });
    assert.equal(spy.status, 200, JSON.stringify(spy.json));
    const sent = actionsNamed("Originate").at(-1);
    assert.equal(sent?.fields.Channel, "Local/1005@from-internal");
    assert.equal(sent?.fields.Application, "ChanSpy");
    assert.equal(sent?.fields.Data, "PJSIP/1001,qw");
    await played;
    await assertNoOtherCall(server, callId, before);
  });

  it(
    "Spy on a call 19s does not hold: the supervisor's modeled ChanSpy call gives no CRM event or Cdr",
    TEST,
    async () => {
      const { callId, played } = await answeredCall("blindTransfer");
      const before = await keysOf(server);
      const spy = await postJson(server.url, rpc("Spy"), { callId, supervisor: "1005" });
      assert.equal(spy.status, 200, JSON.stringify(spy.json));
      assert.equal(actionsNamed("Originate").at(-1)?.fields.Application, "ChanSpy");
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // 1005 rang and answers (0.2 × 19s's ring)
      await hangUpOnce(server, callId, played);
      await assertNoOtherCall(server, callId, before);
    },
  );

  it(
    "Spy answers the supervisor call's id: Hangup with it ends the supervision only, other actions are refused",
    TEST,
    async () => {
      const { callId, played } = await answeredCall("blindTransfer");
      const before = await keysOf(server);
      const spy = await postJson(server.url, rpc("Spy"), { callId, supervisor: "1005" });
      assert.equal(spy.status, 200, JSON.stringify(spy.json));
      const spyCallId = String(spy.json.spyCallId);
      assert.match(spyCallId, /^[0-9a-f-]{36}$/);
      assert.ok(
        [actionsNamed("Originate").at(-1)?.fields.Variable].flat().includes(`CALLMESH_CALL_ID=${spyCallId}`),
        JSON.stringify(actionsNamed("Originate").at(-1)?.fields),
      );
      const held = await postJson(server.url, rpc("Hold"), { callId: spyCallId });
      assert.equal(held.json.code, "failed_precondition", JSON.stringify(held.json));
      assert.equal(reasonOf(held.json), "wrong_call_state");
      // Once the supervisor's phone answered (0.2 × 19s's ring), the session is theirs to end.
      const hangups = actionsNamed("Hangup").length;
      const ended = await eventually(
        async () => {
          const reply = await postJson(server.url, rpc("Hangup"), { callId: spyCallId });
          return reply.status === 200 ? reply : undefined;
        },
        10_000,
        "Hangup of the supervision",
      );
      assert.equal(ended.status, 200);
      const cut = actionsNamed("Hangup")
        .slice(hangups)
        .map((action) => String(action.fields.Channel));
      assert.ok(cut.length > 0 && cut.every((channel) => /1005/.test(channel)), `${cut}`);
      const over = await postJson(server.url, rpc("Hangup"), { callId: spyCallId });
      assert.equal(over.json.code, "not_found", "the session is over");
      // The spied call goes on until it is hung up: one HANGUP, one CDR, nothing else.
      const got = await postJson(server.url, rpc("GetCall"), { callId });
      assert.equal((got.json.call as Json).state, "ACTIVE_CALL_STATE_ANSWERED");
      await hangUpOnce(server, callId, played);
      await assertNoOtherCall(server, callId, before);
    },
  );

  it(
    "Hold and Resume, SendDtmf and AddToConference reach the PBX; a key without calls:control is refused",
    TEST,
    async () => {
      const { callId, played } = await answeredCall("blindTransfer");
      const refused = await postJson(server.url, rpc("Hold"), { callId }, viewerKey);
      assert.equal(refused.json.code, "permission_denied");

      const hold = await postJson(server.url, rpc("Hold"), { callId });
      assert.equal(hold.status, 200, JSON.stringify(hold.json));
      assert.equal(actionsNamed("Redirect").at(-1)?.fields.Context, "callmesh-hold");
      const twice = await postJson(server.url, rpc("Hold"), { callId });
      assert.equal(reasonOf(twice.json), "wrong_call_state");
      const resume = await postJson(server.url, rpc("Resume"), { callId });
      assert.equal(resume.status, 200, JSON.stringify(resume.json));
      assert.ok(actionsNamed("Bridge").length > 0);
      const kinds = await eventsOf(callId, (k) => k.includes("RESUMED"));
      assert.ok(kinds.indexOf("HELD") >= 0 && kinds.indexOf("HELD") < kinds.indexOf("RESUMED"), `${kinds}`);

      const dtmf = await postJson(server.url, rpc("SendDtmf"), { callId, digits: "12#" });
      assert.equal(dtmf.status, 200, JSON.stringify(dtmf.json));
      assert.deepEqual(
        actionsNamed("PlayDTMF")
          .slice(-3)
          .map((action) => action.fields.Digit),
        ["1", "2", "#"],
      );
      const badDigits = await postJson(server.url, rpc("SendDtmf"), { callId, digits: "1\r\nAction: Hangup" });
      assert.equal(badDigits.json.code, "invalid_argument");

      const conference = await postJson(server.url, rpc("AddToConference"), { callId, room: "sales-weekly" });
      assert.equal(conference.status, 200, JSON.stringify(conference.json));
      assert.equal(actionsNamed("Redirect").at(-1)?.fields.Exten, "sales-weekly");
      await postJson(server.url, rpc("Hangup"), { callId });
      await played;
    },
  );

  it("AddToConference moves the call into the ConfBridge room; it stays tracked until hung up", TEST, async () => {
    const { callId, played } = await answeredCall("blindTransfer");
    const conference = await postJson(server.url, rpc("AddToConference"), { callId, room: "sales-weekly" });
    assert.equal(conference.status, 200, JSON.stringify(conference.json));
    const redirect = actionsNamed("Redirect").at(-1);
    assert.equal(redirect?.fields.Exten, "sales-weekly");
    assert.equal(redirect?.fields.ExtraExten, "sales-weekly");
    // The simulator plays the room's BridgeLeave, ConfBridgeJoin… at once; the agent has them well within this.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const got = await postJson(server.url, rpc("GetCall"), { callId });
    assert.equal(got.status, 200, JSON.stringify(got.json));
    assert.equal((got.json.call as Json).callId, callId);

    await hangUpOnce(server, callId, played);
  });

  it("a call id the tenant does not have is not_found, and the PBX hears nothing of it", TEST, async () => {
    const before = sim.actions.length;
    for (const name of ["Hangup", "Hold", "Park", "GetCall"]) {
      const answer = await postJson(server.url, rpc(name), { callId: "no-such-call" });
      assert.equal(answer.json.code, "not_found", name);
    }
    assert.equal(sim.actions.length, before);
  });
});

describe("intercept and presence through the gateway on Asterisk, in real time", () => {
  let server: TestServer;
  let sim: AmiSimulator;
  let stop: () => Promise<void>;
  // Real time: the recorded 2 s of ringing is the window an intercept must land in.
  before(async () => {
    ({ server, sim, stop } = await startSystem(1));
  });
  after(() => stop());

  it(
    "Intercept redirects a ringing call to the intercepting extension; once answered it is refused",
    TEST,
    async () => {
      const played = sim.playControlledCall("blindTransfer", { maxWaitMs: 3_000 });
      const ringing = await eventually(
        async () =>
          (((await postJson(server.url, rpc("ListActiveCalls"), {})).json.calls ?? []) as Json[]).find(
            (call) => call.state === "ACTIVE_CALL_STATE_RINGING",
          ),
        5_000,
        "the call ringing, listed by the API",
      );
      const callId = String(ringing.callId);
      const intercept = await postJson(server.url, rpc("Intercept"), { callId, extension: "1007" });
      assert.equal(intercept.status, 200, JSON.stringify(intercept.json));
      const redirect = sim.actions.filter((action) => action.name === "Redirect").at(-1);
      assert.match(String(redirect?.fields.Channel), /^PJSIP\/provider-/);
      assert.equal(redirect?.fields.Exten, "1007");

      // The ringing phone stops, 1007 rings and answers, and the caller is bridged to it.
      const answered = await eventually(
        async () => {
          const call = (await postJson(server.url, rpc("GetCall"), { callId })).json.call as Json | undefined;
          return call?.state === "ACTIVE_CALL_STATE_ANSWERED" ? call : undefined;
        },
        10_000,
        "the call answered",
      );
      assert.equal(answered.answeredBy, "1007");
      const late = await postJson(server.url, rpc("Intercept"), { callId, extension: "1007" });
      assert.equal(late.json.code, "failed_precondition");
      assert.equal(reasonOf(late.json), "wrong_call_state");

      const presence = await postJson(server.url, "callmesh.crm.v1.PresenceService/ListPresence", {
        extensions: ["1001", "1007"],
      });
      assert.equal(presence.status, 200, JSON.stringify(presence.json));
      const states = Object.fromEntries(((presence.json.entries ?? []) as Json[]).map((e) => [e.extension, e.state]));
      assert.equal(states["1007"], "PRESENCE_STATE_IN_USE");
      assert.notEqual(states["1001"], "PRESENCE_STATE_IN_USE", "1001 stopped ringing and never answered");

      const events = await hangUpOnce(server, callId, played);
      assert.deepEqual(
        events.filter((event) => event.kind === CallEventKind.ANSWERED).map((event) => event.extension),
        ["1007"],
        "one ANSWERED, by 1007",
      );
    },
  );
});

/** Hangs the call up through the API, lets its recording finish, and checks it ended once: one HANGUP, one Cdr. */
async function hangUpOnce(server: TestServer, callId: string, played: Promise<void>): Promise<CallEvent[]> {
  const hangup = await postJson(server.url, rpc("Hangup"), { callId });
  assert.equal(hangup.status, 200, JSON.stringify(hangup.json));
  await played;
  const events = await callEventsOf(server, callId, (kinds) => kinds.includes("HANGUP"));
  const kinds = events.map((event) => CallEventKind[event.kind]);
  assert.equal(kinds.filter((kind) => kind === "HANGUP").length, 1, `${kinds}`);
  assert.equal(await cdrCountOf(server, callId), 1);
  return events;
}

/** The call's CallEvents once `until` holds for their kinds. */
async function callEventsOf(server: TestServer, callId: string, until: (kinds: string[]) => boolean) {
  const eventsIn = (records: { key: string; value: Uint8Array }[]) =>
    records.filter((record) => record.key === callId).map((record) => fromBinary(CallEventSchema, record.value));
  const kindsIn = (records: { key: string; value: Uint8Array }[]) =>
    eventsIn(records).map((event) => CallEventKind[event.kind] ?? "");
  return eventsIn(await readTopic(server.eventLog, Topic.callEvents, (records) => until(kindsIn(records)), 20_000));
}

/** How many Cdrs the call got: waits for the first, then past the agent's Cdr grace time for any other. */
async function cdrCountOf(server: TestServer, callId: string): Promise<number> {
  const has = (records: { key: string }[]) => records.some((record) => record.key === callId);
  await readTopic(server.eventLog, Topic.cdrs, has, 20_000);
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  const records = await readTopic(server.eventLog, Topic.cdrs, () => false, 1_000);
  return records.filter((record) => record.key === callId).length;
}

/** The call ids that have CallEvents or Cdrs so far. */
async function keysOf(server: TestServer): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const topic of [Topic.callEvents, Topic.cdrs]) {
    for (const record of await readTopic(server.eventLog, topic, () => false, 1_000)) keys.add(record.key);
  }
  return keys;
}

/** Past the agent's Cdr grace time, no call but `callId` got a CallEvent or a Cdr since `before`. */
async function assertNoOtherCall(server: TestServer, callId: string, before: ReadonlySet<string>) {
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  const added = [...(await keysOf(server))].filter((key) => !before.has(key) && key !== callId);
  assert.deepEqual(added, [], "the supervisor's call is no call of the CRM");
}

/** A gateway, an AMI simulator playing at `timeScale`, and an agent between them, ready. */
async function startSystem(timeScale: number) {
  const server = await startTestServer();
  const sim = await startAmiSimulator({ timeScale, logger: createLogger("pbx-sim", "silent") });
  const agent = await startTestAgent(server, { kind: "asterisk", port: sim.port });
  return {
    server,
    sim,
    async stop() {
      await agent.dispose();
      await sim.close();
      await server.stop();
    },
  };
}
