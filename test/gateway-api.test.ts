// The gateway's CRM API and agent stream, with the real server on PGlite and a scripted
// agent that speaks the real protocol.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { CommandStatus } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import {
  type ListCdrsRequest,
  ListCdrsRequestSchema,
  type ListCdrsResponse,
  ListCdrsResponseSchema,
} from "@callmesh/gen/callmesh/crm/v1/cdr_service_pb.js";
import { CallDirection, CallStatus } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import { Topic } from "@callmesh/platform/event-log/event-log.js";
import * as grpc from "@grpc/grpc-js";
import { connectFakeAgent } from "./support/fake-agent.js";
import { eventually } from "./support/processes.js";
import { postJson, readTopic, startTestServer, type TestServer, testCredentials } from "./support/server.js";

const clickToCall = "callmesh.crm.v1.CallService/ClickToCall";
const listCdrs = "callmesh.crm.v1.CdrService/ListCdrs";
const getCdr = "callmesh.crm.v1.CdrService/GetCdr";

describe("gateway API", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it("refuses a request without an API key, or with a wrong one", async () => {
    const none = await postJson(server.url, clickToCall, { extension: "1001", destination: "123" }, null);
    assert.equal(none.status, 401);
    assert.equal(none.json.code, "unauthenticated");
    const wrong = await postJson(server.url, listCdrs, {}, "cmk_wrong");
    assert.equal(wrong.json.code, "unauthenticated");
  });

  it("names the field of a malformed request", async () => {
    const { status, json } = await postJson(server.url, clickToCall, { extension: "1001", destination: "12ab" });
    assert.equal(status, 400);
    assert.equal(json.code, "invalid_argument");
    assert.match(String(json.message), /destination/);
    const bad = await postJson(server.url, clickToCall, {
      extension: "1001",
      destination: "123",
      variables: { CRM_ID: "a\r\nAction: Hangup" },
    });
    assert.equal(bad.json.code, "invalid_argument");
    assert.match(String(bad.json.message), /variables/);
  });

  it("answers unavailable when the tenant's agent is offline", async () => {
    const { status, json } = await postJson(server.url, clickToCall, { extension: "1001", destination: "123" });
    assert.equal(status, 503);
    assert.equal(json.code, "unavailable");
    assert.match(String(json.message), /agent/);
  });

  it("tells an unknown tenant from a forbidden one", async () => {
    const unknown = await postJson(server.url, listCdrs, { tenantId: "nope" });
    assert.equal(unknown.json.code, "not_found");
  });

  it("runs click-to-call through the agent stream and serves the CDR it reports", async () => {
    const agent = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId);
    try {
      assert.equal((await agent.next("welcome")).tenantId, testCredentials.tenantId);

      const reply = postJson(server.url, clickToCall, {
        extension: "1001",
        destination: "+35799123456",
        variables: { CRM_ID: "abc123" },
        idempotencyKey: "click-1",
      });
      const command = await agent.next("command");
      assert.equal(command.action.case, "originate");
      const originate = command.action.value;
      assert.equal(originate?.extension, "1001");
      assert.equal(originate?.destination, "+35799123456");
      assert.deepEqual(originate?.variables, { CRM_ID: "abc123" });
      assert.equal(originate?.timeoutSeconds, 30);
      agent.send({ case: "commandResult", value: { commandId: command.commandId, status: CommandStatus.OK } });
      const { json } = await reply;
      const callId = String(json.callId);
      assert.equal(callId, originate?.callId);

      // A retried click returns the same call and never reaches the PBX again.
      const retry = await postJson(server.url, clickToCall, {
        extension: "1001",
        destination: "+35799123456",
        idempotencyKey: "click-1",
      });
      assert.equal(retry.json.callId, callId);
      await sleep(50);
      assert.equal(
        agent.received.some((r) => r.message.case === "command"),
        false,
      );

      const now = Date.now();
      agent.send({
        case: "batch",
        value: {
          items: [
            { sequence: 1n, payload: { case: "event", value: { eventId: `${callId}:1`, callId, sequence: 1 } } },
            {
              sequence: 2n,
              payload: {
                case: "cdr",
                value: {
                  id: callId,
                  callId,
                  tenantId: "someone-else", // the gateway overrides what the agent claims
                  direction: CallDirection.OUTBOUND,
                  fromNumber: "1001",
                  toNumber: "+35799123456",
                  answeredBy: "1001",
                  status: CallStatus.SUCCESS,
                  talkSeconds: 3,
                  startedAt: timestampFromMs(now - 10_000),
                  endedAt: timestampFromMs(now),
                  variables: { CRM_ID: "abc123" },
                },
              },
            },
          ],
        },
      });
      assert.equal((await agent.next("ack")).sequence, 2n);

      const cdr = await eventually(async () => {
        const page = await postJson(server.url, listCdrs, {});
        const cdrs = page.json.cdrs as Record<string, unknown>[] | undefined;
        return cdrs?.find((c) => c.callId === callId);
      });
      assert.equal(cdr.tenantId, testCredentials.tenantId);
      assert.equal(cdr.agentId, testCredentials.agentId);
      assert.equal(cdr.direction, "CALL_DIRECTION_OUTBOUND");
      assert.deepEqual(cdr.variables, { CRM_ID: "abc123" });

      const one = await postJson(server.url, getCdr, { id: callId });
      assert.equal((one.json.cdr as Record<string, unknown>).callId, callId);
      const missing = await postJson(server.url, getCdr, { id: "no-such-cdr" });
      assert.equal(missing.json.code, "not_found");

      // Sent again (the agent never saw the ack): acked again, stored once.
      agent.send({
        case: "batch",
        value: { items: [{ sequence: 2n, payload: { case: "cdr", value: { id: callId, callId } } }] },
      });
      assert.equal((await agent.next("ack")).sequence, 2n);
    } finally {
      agent.close();
    }
  });

  it("maps the agent's refusals to distinct codes", async () => {
    const agent = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId);
    try {
      await agent.next("welcome");
      for (const [status, code] of [
        [CommandStatus.EXTENSION_UNKNOWN, "not_found"],
        [CommandStatus.EXTENSION_UNAVAILABLE, "failed_precondition"],
        [CommandStatus.PBX_UNREACHABLE, "unavailable"],
      ] as const) {
        const reply = postJson(server.url, clickToCall, { extension: "1099", destination: "123" });
        const command = await agent.next("command");
        agent.send({ case: "commandResult", value: { commandId: command.commandId, status } });
        assert.equal((await reply).json.code, code);
      }
    } finally {
      agent.close();
    }
  });

  it("parks an item that breaks the contract and keeps the stream going", async () => {
    const agent = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId);
    try {
      await agent.next("welcome");
      agent.send({ case: "batch", value: { items: [{ sequence: 10n }] } });
      assert.equal((await agent.next("ack")).sequence, 10n);
      const parked = await readTopic(server.eventLog, Topic.deadLetter, (r) => r.length > 0);
      assert.equal(parked[0]?.headers?.source, "agent-stream");
      assert.match(String(parked[0]?.headers?.reason), /payload/);
    } finally {
      agent.close();
    }
  });

  it("refuses an agent with a wrong token", async () => {
    const agent = connectFakeAgent(server.url, "cma_wrong", testCredentials.agentId);
    await assert.rejects(agent.done, /token/);
  });

  it("answers a grpc-js client on the same port", async () => {
    const client = new grpc.Client(new URL(server.url).host, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${testCredentials.apiKey}`);
    const response = await new Promise<ListCdrsResponse>((resolve, reject) =>
      client.makeUnaryRequest(
        "/callmesh.crm.v1.CdrService/ListCdrs",
        (request: ListCdrsRequest) => Buffer.from(toBinary(ListCdrsRequestSchema, request)),
        (bytes: Buffer) => fromBinary(ListCdrsResponseSchema, bytes),
        create(ListCdrsRequestSchema, { pageSize: 1 }),
        metadata,
        (error, value) => (error || !value ? reject(error) : resolve(value)),
      ),
    );
    client.close();
    assert.ok(response.cdrs.length <= 1);
  });

  it("serves health, readiness and metrics", async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /callmesh_gateway_agent_items_total/);
  });
});
