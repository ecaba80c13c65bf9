// Fleet health (REQUIREMENTS A4, O2): the gateway keeps each agent's latest Hello and
// Heartbeat, serves them in AgentFleetService.ListAgents, marks an agent that stops
// heartbeating offline within CALLMESH_AGENT_OFFLINE_MS and logs ONLINE, OFFLINE and the
// agents' notices on the `agent-events` topic.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fromBinary } from "@bufbuild/protobuf";
import { AgentEventKind, AgentEventSchema } from "@callmesh/gen/callmesh/events/v1/agent_event_pb.js";
import { PbxKind } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import { Topic } from "@callmesh/platform/event-log/event-log.js";
import { reasonOf } from "./support/connect-json.js";
import { connectFakeAgent } from "./support/fake-agent.js";
import { eventually } from "./support/processes.js";
import { postJson, readTopic, startTestServer, type TestServer, testCredentials } from "./support/server.js";

const listAgents = "callmesh.admin.v1.AgentFleetService/ListAgents";
const offlineMs = 400;

async function agentStatus(server: TestServer, agentId = testCredentials.agentId) {
  const { status, json } = await postJson(server.url, listAgents, {});
  assert.equal(status, 200, JSON.stringify(json));
  return (json.agents as Record<string, unknown>[]).find((agent) => agent.agentId === agentId);
}

async function agentEvents(server: TestServer, agentId: string, until: (kinds: AgentEventKind[]) => boolean) {
  const kindsOf = (records: { value: Uint8Array }[]) =>
    records.map((r) => fromBinary(AgentEventSchema, r.value)).filter((e) => e.agentId === agentId);
  const records = await readTopic(server.eventLog, Topic.agentEvents, (r) => until(kindsOf(r).map((e) => e.kind)));
  return kindsOf(records);
}

describe("agent fleet", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ gatewayEnv: { CALLMESH_AGENT_OFFLINE_MS: String(offlineMs) } });
    await server.directory.addAgent(testCredentials.tenantId, "never-connected", "cma_never");
    await server.directory.addApiKey(testCredentials.tenantId, "cmk_no_fleet", ["calls:control"]);
  });
  after(() => server.stop());

  it("needs the fleet:read scope", async () => {
    const { status, json } = await postJson(server.url, listAgents, {}, "cmk_no_fleet");
    assert.equal(status, 403);
    assert.equal(reasonOf(json), "scope_missing");
    assert.match(String(json.message), /fleet:read/);
  });

  it("shows the agent's heartbeat numbers, then marks it offline within the timeout once it falls silent", async () => {
    const agent = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId, {
      case: "hello",
      value: {
        agentId: testCredentials.agentId,
        agentVersion: "1.4.0",
        pbxKind: PbxKind.ASTERISK,
        pbxVersion: "20.20.1",
        pbxConnected: true,
      },
    });
    await agent.next("welcome");
    const beat = (spoolDepth: bigint) =>
      agent.send({
        case: "heartbeat",
        value: {
          pbxConnected: true,
          spoolDepth,
          spoolBytes: 4096n,
          spoolLimitBytes: 1_073_741_824n,
          cpuPercent: 12.5,
          memoryUsedBytes: 2_000_000_000n,
          memoryTotalBytes: 8_000_000_000n,
          spoolDisk: { path: "/var/spool/callmesh", freeBytes: 50_000_000_000n, totalBytes: 100_000_000_000n },
          recordingDisk: { path: "/var/spool/asterisk/monitor", freeBytes: 7n, totalBytes: 9n },
          activeCalls: 3,
        },
      });
    beat(2n);
    const status = await eventually(async () => {
      const found = await agentStatus(server);
      return found?.spoolDepth === "2" ? found : undefined;
    });
    assert.deepEqual(
      {
        ...status,
        lastSeenAt: typeof status.lastSeenAt,
        connectedAt: typeof status.connectedAt,
      },
      {
        agentId: testCredentials.agentId,
        tenantId: testCredentials.tenantId,
        online: true,
        lastSeenAt: "string",
        connectedAt: "string",
        pbxKind: "PBX_KIND_ASTERISK",
        pbxVersion: "20.20.1",
        agentVersion: "1.4.0",
        pbxConnected: true,
        spoolDepth: "2",
        spoolBytes: "4096",
        spoolLimitBytes: "1073741824",
        cpuPercent: 12.5,
        memoryUsedBytes: "2000000000",
        memoryTotalBytes: "8000000000",
        spoolDiskFreeBytes: "50000000000",
        spoolDiskTotalBytes: "100000000000",
        recordingDiskFreeBytes: "7",
        recordingDiskTotalBytes: "9",
        activeCalls: 3,
      },
    );
    const never = await agentStatus(server, "never-connected");
    assert.deepEqual(never, { agentId: "never-connected", tenantId: testCredentials.tenantId });

    // Heartbeats keep it online well past the timeout.
    for (let i = 0; i < 8; i++) {
      beat(3n);
      await sleep(offlineMs / 4);
    }
    assert.equal((await agentStatus(server))?.online, true);

    // Silence: offline within the timeout (plus one sweep), and the stream is closed.
    const silentSince = Date.now();
    await agent.done;
    const closedAfter = Date.now() - silentSince;
    assert.ok(closedAfter < offlineMs * 2, `closed after ${closedAfter} ms`);
    const offline = await agentStatus(server);
    assert.ok(offline && !offline.online, "offline (false is omitted from JSON)");
    assert.equal(offline?.spoolDepth, "3"); // the latest heartbeat stays visible

    const events = await agentEvents(server, testCredentials.agentId, (kinds) =>
      kinds.includes(AgentEventKind.OFFLINE),
    );
    assert.deepEqual(
      events.map((e) => e.kind),
      [AgentEventKind.ONLINE, AgentEventKind.OFFLINE],
    );
    assert.ok(events.every((e) => e.tenantId === testCredentials.tenantId && e.eventId));
    assert.match(events[1]?.message ?? "", /silent/);

    const [row] = (await server.directory.listAgents(testCredentials.tenantId)).filter(
      (a) => a.agentId === testCredentials.agentId,
    );
    assert.ok(row?.lastSeenAt, "last_seen_at written to the database");
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /callmesh_gateway_agent_offline_total\{[^}]*cause="silent"[^}]*\} 1\n/);
  });

  it("logs the agent's notices as agent events, and refuses a bad one without losing anything", async () => {
    const agentId = "notice-pbx";
    await server.directory.addAgent(testCredentials.tenantId, agentId, "cma_notice");
    const agent = connectFakeAgent(server.url, "cma_notice", agentId, {
      case: "hello",
      value: { agentId, agentVersion: "test", pbxConnected: true },
    });
    try {
      await agent.next("welcome");
      assert.equal((await agentStatus(server, agentId))?.pbxConnected, true);
      agent.send({ case: "notice", value: { kind: AgentEventKind.SPOOL_NEAR_FULL, message: "spool 91% of 1 GiB" } });
      agent.send({ case: "notice", value: { kind: AgentEventKind.PBX_DISCONNECTED, message: "AMI connection lost" } });
      await eventually(async () => ((await agentStatus(server, agentId))?.pbxConnected ? undefined : true));

      agent.send({ case: "notice", value: { kind: AgentEventKind.UNSPECIFIED, message: "what?" } });
      const refusal = await agent.next("error");
      assert.equal(refusal.reason, "invalid_notice");
      assert.match(refusal.message, /kind/);
      const parked = await readTopic(server.eventLog, Topic.deadLetter, (r) =>
        r.some((x) => x.headers?.source === "agent-notice"),
      );
      assert.equal(parked.find((x) => x.headers?.source === "agent-notice")?.headers?.agentId, agentId);

      // The stream goes on: items sent after it are stored and acked.
      agent.send({
        case: "batch",
        value: {
          items: [{ sequence: 1n, payload: { case: "event", value: { eventId: "n:1", callId: "n", sequence: 1 } } }],
        },
      });
      assert.equal((await agent.next("ack")).sequence, 1n);

      const events = await agentEvents(server, agentId, (kinds) => kinds.includes(AgentEventKind.PBX_DISCONNECTED));
      assert.deepEqual(
        events.map((e) => [e.kind, e.tenantId, e.message]),
        [
          [AgentEventKind.ONLINE, testCredentials.tenantId, "agent test connected"],
          [AgentEventKind.SPOOL_NEAR_FULL, testCredentials.tenantId, "spool 91% of 1 GiB"],
          [AgentEventKind.PBX_DISCONNECTED, testCredentials.tenantId, "AMI connection lost"],
        ],
      );
    } finally {
      agent.close();
    }
  });

  it("refuses a stream that opens with a heartbeat instead of hello, and takes the agent when it says hello", async () => {
    const stray = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId, {
      case: "heartbeat",
      value: { spoolDepth: 99n },
    });
    await assert.rejects(stray.done, /first message on the stream must be hello/);
    assert.notEqual((await agentStatus(server))?.spoolDepth, "99");

    const agent = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId);
    try {
      await agent.next("welcome");
      agent.send({
        case: "batch",
        value: {
          items: [{ sequence: 5n, payload: { case: "event", value: { eventId: "h:1", callId: "h", sequence: 1 } } }],
        },
      });
      assert.equal((await agent.next("ack")).sequence, 5n);
      assert.equal((await agentStatus(server))?.online, true);
    } finally {
      agent.close();
    }
  });

  it("logs OFFLINE when the agent's stream ends", async () => {
    const agentId = "leaving-pbx";
    await server.directory.addAgent(testCredentials.tenantId, agentId, "cma_leaving");
    const agent = connectFakeAgent(server.url, "cma_leaving", agentId);
    await agent.next("welcome");
    agent.close();
    const events = await agentEvents(server, agentId, (kinds) => kinds.includes(AgentEventKind.OFFLINE));
    assert.deepEqual(
      events.map((e) => [e.kind, e.message]),
      [
        [AgentEventKind.ONLINE, "agent test connected"],
        [AgentEventKind.OFFLINE, "the agent's stream ended"],
      ],
    );
    const left = await agentStatus(server, agentId);
    assert.ok(left && !left.online);
  });
});
