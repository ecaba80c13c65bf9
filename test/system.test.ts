// The walking skeleton end to end: simulated Asterisk (real AMI recordings) → pbx-agent →
// gateway → event log → cdr-service → CRM API over Connect JSON, as curl would call it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { CallEventKind, CallEventSchema } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { type AmiSimulator, startAmiSimulator } from "@callmesh/pbx-sim/ami/ami-simulator.js";
import { Topic } from "@callmesh/platform/event-log/event-log.js";
import { eventually } from "./support/processes.js";
import { postJson, readTopic, startTestServer, type TestServer, testCredentials } from "./support/server.js";
import { startTestAgent, type TestAgent } from "./support/test-agent.js";

const clickToCall = "callmesh.crm.v1.CallService/ClickToCall";
const listCdrs = "callmesh.crm.v1.CdrService/ListCdrs";

type Json = Record<string, unknown>;

describe("the system, end to end", () => {
  let server: TestServer;
  let sim: AmiSimulator;
  let testAgent: TestAgent;

  const agentsConnected = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return Number(/^callmesh_gateway_agents_connected\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
  };
  const cdrs = async (body: Json = {}) => ((await postJson(server.url, listCdrs, body)).json.cdrs ?? []) as Json[];

  before(async () => {
    server = await startTestServer();
    sim = await startAmiSimulator({ timeScale: 0.02 });
    testAgent = await startTestAgent(server, { kind: "asterisk", port: sim.port });
    await eventually(async () => ((await agentsConnected()) === 1 ? true : undefined), 10_000, "agent connected");
  });

  after(async () => {
    await testAgent.dispose();
    await sim.close();
    await server.stop();
  });

  it("the agent serves /healthz, /readyz (logged in to the PBX and streaming) and /metrics", async () => {
    const ops = `http://127.0.0.1:${testAgent.agent.opsPort}`;
    assert.equal((await fetch(`${ops}/healthz`)).status, 200);
    await eventually(async () => ((await fetch(`${ops}/readyz`)).status === 200 ? true : undefined), 10_000, "ready");
    const metrics = await (await fetch(`${ops}/metrics`)).text();
    assert.match(metrics, /^# TYPE callmesh_agent_pbx_input_skipped_total counter$/m);
    assert.match(metrics, /^process_cpu_seconds_total\{service="pbx-agent"\}/m);
    assert.equal((await fetch(`${ops}/nothing`)).status, 404);
  });

  it("stores an inbound answered call as one CDR with the right parties, direction and times", async () => {
    await sim.playInboundAnswered({ from: "+35799123456", did: "35722555101", extension: "1001" });
    const cdr = await eventually(
      async () => (await cdrs({ direction: "CALL_DIRECTION_INBOUND" })).find((c) => c.fromNumber === "+35799123456"),
      10_000,
      "inbound CDR listed",
    );
    assert.equal(cdr.toNumber, "35722555101");
    assert.equal(cdr.direction, "CALL_DIRECTION_INBOUND");
    assert.equal(cdr.answeredBy, "1001");
    assert.equal(cdr.status, "CALL_STATUS_SUCCESS");
    assert.equal(cdr.disposition, "ANSWERED");
    assert.equal(cdr.talkSeconds, 3);
    assert.ok(Number(cdr.durationSeconds) >= 3, `duration ${cdr.durationSeconds}`);
    assert.equal(cdr.tenantId, testCredentials.tenantId);
    assert.ok(cdr.callId);
  });

  it("rings the agent's extension on click-to-call and tags the call's events and CDR with the call id", async () => {
    const { status, json } = await postJson(server.url, clickToCall, {
      extension: "1001",
      destination: "+35799123456",
      variables: { CRM_ID: "abc123" },
    });
    assert.equal(status, 200, JSON.stringify(json));
    const callId = String(json.callId);

    const originate = sim.actions.find((a) => a.name.toLowerCase() === "originate");
    assert.ok(originate, "the PBX received an Originate");
    const field = (name: string) =>
      Object.entries(originate.fields).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
    assert.equal(field("Channel"), "Local/1001@from-internal");
    assert.equal(field("Exten"), "+35799123456");
    const variables = [field("Variable")].flat().join(",");
    assert.match(variables, new RegExp(`CALLMESH_CALL_ID=${callId}`));
    assert.match(variables, /CRM_ID=abc123/);

    const cdr = await eventually(
      async () => (await cdrs()).find((c) => c.callId === callId),
      15_000,
      "click-to-call CDR listed",
    );
    assert.equal(cdr.direction, "CALL_DIRECTION_OUTBOUND");
    assert.equal(cdr.fromNumber, "1001");
    assert.equal(cdr.toNumber, "+35799123456");
    assert.equal(cdr.status, "CALL_STATUS_SUCCESS");
    assert.deepEqual(cdr.rungExtensions, ["1001"]);
    assert.deepEqual(cdr.variables, { CRM_ID: "abc123" });

    const records = await readTopic(server.eventLog, Topic.callEvents, (r) =>
      r.some((x) => x.key === callId && fromBinary(CallEventSchema, x.value).kind === CallEventKind.HANGUP),
    );
    const events = records.map((r) => fromBinary(CallEventSchema, r.value)).filter((e) => e.callId === callId);
    const kinds = events.map((e) => e.kind);
    assert.ok(kinds.includes(CallEventKind.RINGING), `kinds ${kinds}`);
    assert.ok(kinds.indexOf(CallEventKind.RINGING) < kinds.indexOf(CallEventKind.ANSWERED));
    assert.equal(kinds.filter((k) => k === CallEventKind.HANGUP).length, 1);
    assert.equal(kinds[kinds.length - 1], CallEventKind.HANGUP);
    assert.deepEqual(
      events.map((e) => e.sequence),
      events.map((_, i) => i + 1),
    );
  });

  it("gives each failure its own code", async () => {
    const none = await postJson(server.url, clickToCall, { extension: "1001", destination: "+35799123456" }, null);
    assert.equal(none.json.code, "unauthenticated");
    const malformed = await postJson(server.url, clickToCall, { extension: "1001", destination: "call-me" });
    assert.equal(malformed.json.code, "invalid_argument");
    assert.match(String(malformed.json.message), /destination/);
    const unknown = await postJson(server.url, clickToCall, { extension: "1999", destination: "+35799123456" });
    assert.equal(unknown.json.code, "not_found", JSON.stringify(unknown.json));
  });

  it("answers unavailable once the tenant's agent is offline", async () => {
    await testAgent.stop();
    await eventually(async () => ((await agentsConnected()) === 0 ? true : undefined), 5000, "agent gone");
    const { json } = await postJson(server.url, clickToCall, { extension: "1001", destination: "+35799123456" });
    assert.equal(json.code, "unavailable");
  });
});
