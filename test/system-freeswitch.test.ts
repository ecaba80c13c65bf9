// The same path as system.test.ts with FreeSWITCH: simulated event socket (real FreeSWITCH
// 1.10 recordings) → pbx-agent's ESL driver → gateway → event log → cdr-service → CRM API.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type EslSimulator, startEslSimulator } from "@callmesh/pbx-sim/esl/esl-simulator.js";
import { createLogger } from "@callmesh/platform/logging.js";
import { eventually } from "./support/processes.js";
import { postJson, startTestServer, type TestServer } from "./support/server.js";
import { startTestAgent, type TestAgent } from "./support/test-agent.js";

const clickToCall = "callmesh.crm.v1.CallService/ClickToCall";
const listCdrs = "callmesh.crm.v1.CdrService/ListCdrs";

type Json = Record<string, unknown>;

describe("the system on FreeSWITCH, end to end", () => {
  let server: TestServer;
  let sim: EslSimulator;
  let testAgent: TestAgent;
  const cdrs = async () => ((await postJson(server.url, listCdrs, {})).json.cdrs ?? []) as Json[];

  before(async () => {
    server = await startTestServer();
    sim = await startEslSimulator({
      timeScale: 0.02,
      heartbeatIntervalMs: 0,
      password: "s3cret",
      extensions: { "1001": "answers", "1002": "unregistered" },
      logger: createLogger("pbx-sim", "silent"),
    });
    testAgent = await startTestAgent(server, { kind: "freeswitch", port: sim.port, password: "s3cret" });
  });

  after(async () => {
    await testAgent?.dispose();
    await sim?.close();
    await server?.stop();
  });

  it("stores an inbound answered call as one CDR with the right parties and direction", async () => {
    await sim.playInboundAnswered({ from: "+35799111222", did: "35722555101", extension: "1001" });
    const cdr = await eventually(
      async () => (await cdrs()).find((c) => c.fromNumber === "+35799111222"),
      15_000,
      "inbound CDR listed",
    );
    assert.equal(cdr.direction, "CALL_DIRECTION_INBOUND");
    assert.equal(cdr.toNumber, "35722555101");
    assert.equal(cdr.answeredBy, "1001");
    assert.equal(cdr.status, "CALL_STATUS_SUCCESS");
    assert.equal(cdr.pbxKind, "PBX_KIND_FREESWITCH");
    assert.equal(cdr.talkSeconds, 3);
  });

  it("click-to-call rings the agent's phone with bgapi originate and the CDR carries the call id", async () => {
    const { status, json } = await postJson(server.url, clickToCall, {
      extension: "1001",
      destination: "0035799123456",
      variables: { crm_id: "abc123" },
    });
    assert.equal(status, 200, JSON.stringify(json));
    const callId = String(json.callId);
    const originate = sim.commands.find((c) => c.command.startsWith("bgapi originate"));
    assert.ok(originate, "the switch received bgapi originate");
    assert.match(originate.command, new RegExp(`callmesh_call_id=${callId}`));
    assert.match(originate.command, /crm_id=abc123/);
    assert.match(originate.command, /user\/1001 0035799123456/);

    const cdr = await eventually(async () => (await cdrs()).find((c) => c.callId === callId), 15_000, "CDR listed");
    assert.equal(cdr.direction, "CALL_DIRECTION_OUTBOUND");
    assert.equal(cdr.fromNumber, "1001");
    assert.equal(cdr.toNumber, "0035799123456");
    assert.deepEqual(cdr.variables, { crm_id: "abc123" });
  });

  it("answers failed_precondition when the agent's phone is not registered", async () => {
    const { status, json } = await postJson(server.url, clickToCall, { extension: "1002", destination: "1001" });
    assert.equal(status, 400, JSON.stringify(json));
    assert.equal(json.code, "failed_precondition");
    assert.match(JSON.stringify(json), /extension_unavailable/);
  });
});
