import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AgentEventKind } from "@callmesh/gen/callmesh/events/v1/agent_event_pb.js";
import { createLogger } from "@callmesh/platform/logging.js";
import { parseAgentConfig } from "./config.js";
import { type FakeAmiServer, SECRET, startFakeAmiServer, USERNAME } from "./drivers/ami/ami-test-server.js";
import { type RunningAgent, startAgent } from "./main.js";
import { startTestGateway, type TestGateway, until } from "./test-gateway.js";

describe("the agent, booted by main", () => {
  let dir: string;
  let gateway: TestGateway;
  let ami: FakeAmiServer;
  let agent: RunningAgent;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "agent-main-"));
    gateway = await startTestGateway();
    ami = await startFakeAmiServer();
    ami.respond(
      "CoreSettings",
      (action) =>
        `Response: Success\r\nActionID: ${action.actionId}\r\nAMIversion: 9.0.0\r\nAsteriskVersion: 20.20.1\r\n\r\n`,
    );
    agent = await startAgent(
      parseAgentConfig({
        CALLMESH_AGENT_OPS_PORT: "0",
        CALLMESH_GATEWAY_URL: gateway.url,
        CALLMESH_AGENT_TOKEN: "agent-token",
        CALLMESH_AGENT_ID: "agent-main",
        CALLMESH_SPOOL_DIR: join(dir, "spool"),
        CALLMESH_SPOOL_LIMIT_BYTES: "64KiB",
        CALLMESH_RECORDING_DIR: dir,
        CALLMESH_HEARTBEAT_MS: "100",
        AMI_PORT: String(ami.port),
        AMI_USERNAME: USERNAME,
        AMI_SECRET: SECRET,
      }),
      { logger: createLogger("pbx-agent", "silent") },
    );
  });

  after(async () => {
    await agent.stop();
    await ami.close();
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("tells the gateway when its PBX connection comes and goes, and reports its health in heartbeats", async () => {
    const kinds = () => gateway.of("notice").map((n) => n.kind);
    await until("PBX_CONNECTED", () => kinds().includes(AgentEventKind.PBX_CONNECTED));
    await until("a heartbeat with the PBX up", () => gateway.of("heartbeat").some((beat) => beat.pbxConnected));
    const beat = gateway.of("heartbeat").find((b) => b.pbxConnected);
    assert.equal(beat?.spoolLimitBytes, 65_536n);
    assert.equal(beat?.spoolDisk?.path, join(dir, "spool"));
    assert.equal(beat?.recordingDisk?.path, dir);
    assert.ok(beat && beat.cpuPercent >= 0 && beat.cpuPercent <= 100);
    assert.ok(beat && beat.memoryUsedBytes <= beat.memoryTotalBytes && beat.memoryTotalBytes > 0n);
    assert.match(beat?.agentVersion ?? "", /^\d+\.\d+\.\d+/);
    assert.equal(beat?.pbxVersion, "20.20.1");
    assert.equal(beat?.activeCalls, 0, "the driver's snapshot: no call in progress");

    ami.dropAll(); // the PBX goes away; the driver reconnects
    await until("PBX_DISCONNECTED", () => kinds().includes(AgentEventKind.PBX_DISCONNECTED));
    await until(
      "PBX_CONNECTED again",
      () => kinds().lastIndexOf(AgentEventKind.PBX_CONNECTED) > kinds().indexOf(AgentEventKind.PBX_DISCONNECTED),
      10_000,
    );
    assert.match(
      gateway.of("notice").find((n) => n.kind === AgentEventKind.PBX_DISCONNECTED)?.message ?? "",
      /PBX disconnected \(AMI 127\.0\.0\.1:\d+\); reconnecting/,
    );
  });

  it("spools the PBX's presence changes and streams them to the gateway", async () => {
    ami.push(
      "Event: ExtensionStatus\r\nExten: 1001\r\nContext: ext-local\r\nHint: PJSIP/1001\r\nStatus: 1\r\nStatusText: InUse\r\n\r\n",
    );
    await until("a presence item", () =>
      gateway.of("batch").some((batch) => batch.items.some((item) => item.payload.case === "presence")),
    );
    const item = gateway
      .of("batch")
      .flatMap((batch) => batch.items)
      .find((i) => i.payload.case === "presence");
    assert.equal(item?.payload.case === "presence" ? item.payload.value.extension : "", "1001");
  });

  it("serves the spool's and the link's metrics", async () => {
    const text = await (await fetch(`http://127.0.0.1:${agent.opsPort}/metrics`)).text();
    for (const line of [
      /^callmesh_agent_spool_limit_bytes\{[^}]*\} 65536$/m,
      /^callmesh_agent_spool_bytes\{[^}]*\} \d+$/m,
      /^callmesh_agent_spool_depth\{[^}]*\} \d+$/m,
      /^callmesh_agent_spool_full\{[^}]*\} 0$/m,
      /^callmesh_agent_spool_rejected_total\{[^}]*reason="limit"[^}]*\} 0$/m,
      /^callmesh_agent_heartbeat_send_failures_total\{[^}]*reason="stream_closed"[^}]*\} \d+$/m,
      /^callmesh_agent_heartbeats_sent_total\{[^}]*\} [1-9]\d*$/m,
    ]) {
      assert.match(text, line);
    }
  });
});
