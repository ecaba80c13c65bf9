import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { CommandStatus, type Heartbeat, HelloSchema } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { AgentEventKind } from "@callmesh/gen/callmesh/events/v1/agent_event_pb.js";
import { createLogger } from "@callmesh/platform/logging.js";
import { Registry } from "@callmesh/platform/metrics.js";
import { createGatewayLink, type GatewayLinkOptions, type HeartbeatInit } from "./gateway-link.js";
import { createAgentHeartbeat } from "./health/agent-heartbeat.js";
import { type AppendResult, openDiskSpool, type SpoolPayload } from "./spool/disk-spool.js";
import { monitorSpool } from "./spool/spool-monitor.js";
import { startTestGateway, type TestGateway, until } from "./test-gateway.js";

const logger = createLogger("pbx-agent-test", "silent");

const event = (callId: string, sequence: number): SpoolPayload => ({
  case: "event",
  value: { eventId: `${callId}:${sequence}`, callId, sequence },
});

const linkOptions = (gatewayUrl: string, rest: Partial<GatewayLinkOptions> & Pick<GatewayLinkOptions, "spool">) => ({
  gatewayUrl,
  token: "agent-token",
  logger,
  hello: () => create(HelloSchema, { agentId: "agent-1", agentVersion: "test" }),
  runCommand: async () => ({ status: CommandStatus.OK, message: "" }),
  heartbeatMs: 60_000,
  heartbeat: (): HeartbeatInit => ({}),
  ...rest,
});

async function counterValue(metrics: Registry, name: string, labels: Record<string, string> = {}) {
  const metric = metrics.getSingleMetric(name);
  assert.ok(metric, `metric ${name} is registered`);
  const { values } = await metric.get();
  const found = values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return found?.value ?? 0;
}

describe("gateway link", () => {
  let dir: string;
  let gateway: TestGateway;
  const stops: (() => unknown)[] = [];
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "link-"));
    gateway = await startTestGateway();
  });
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("fills the spool's limit while the gateway does not ack: alerts on the stream, counts what it loses, keeps what it wrote, recovers on ack", async () => {
    const limitBytes = 64 * 1024;
    const spool = openDiskSpool(dir, { limitBytes, alertPercent: 80, overflowItems: 50 });
    const metrics = new Registry();
    const link = createGatewayLink(linkOptions(gateway.url, { spool, metrics }));
    monitorSpool(spool, { logger, metrics, notify: (notice) => link.notify(notice) });
    stops.push(
      () => spool.close(),
      () => link.stop(),
    );
    link.start();
    await until("hello", () => gateway.of("hello").length === 1);

    const outcomes: AppendResult[] = [];
    for (let i = 1; outcomes.filter((o) => o.status === "rejected").length < 30; i++) {
      outcomes.push(spool.append(event("fill", i)));
      if (i % 25 === 0) await sleep(1); // the PBX's pace: groups of events, the event loop turning between them
    }
    const queued = outcomes.filter((o) => o.status === "queued").length;
    assert.equal(outcomes.filter((o) => o.status === "held").length, 50);

    await until("both notices", () => gateway.of("notice").length >= 2);
    const [nearFull, full] = gateway.of("notice");
    assert.equal(nearFull?.kind, AgentEventKind.SPOOL_NEAR_FULL);
    assert.match(nearFull?.message ?? "", /spool near full: .* of 64 KiB \(8\d%\)/);
    assert.equal(full?.kind, AgentEventKind.SPOOL_FULL);
    assert.match(full?.message ?? "", /spool full: it reached its limit .*held in memory \(at most 50\)/);
    assert.equal(await counterValue(metrics, "callmesh_agent_spool_rejected_total", { reason: "limit" }), 30);
    assert.equal(await counterValue(metrics, "callmesh_agent_spool_full"), 1);
    assert.equal(await counterValue(metrics, "callmesh_agent_spool_near_full"), 1);
    assert.equal(await counterValue(metrics, "callmesh_agent_spool_limit_bytes"), limitBytes);
    assert.equal(await counterValue(metrics, "callmesh_agent_spool_held_items"), 50);

    // What was written went to the gateway (as far as its window of unacked batches allows), and survives a SIGKILL now.
    const sent = gateway.batchSequences();
    assert.deepEqual(
      sent,
      Array.from({ length: sent.length }, (_, k) => BigInt(k + 1)),
    );
    const afterCrash = openDiskSpool(dir, { limitBytes });
    assert.deepEqual(
      afterCrash.unacked(0n, 10_000).map((item) => item.sequence),
      Array.from({ length: queued }, (_, k) => BigInt(k + 1)),
    );

    // The gateway catches up: the held items follow, in order, and new ones are taken at once.
    await until("held items sent", () => {
      const last = gateway.batchSequences().at(-1);
      if (last !== undefined) gateway.ack(last);
      return gateway.batchSequences().length === queued + 50;
    });
    // The last ack may still be on its way to the link when the last batch was seen.
    await until("space again", () => {
      const last = gateway.batchSequences().at(-1);
      if (last !== undefined) gateway.ack(last);
      return !spool.stats().full;
    });
    await until("the recovered notice", () => gateway.of("notice").length === 3);
    assert.equal(gateway.of("notice")[2]?.kind, AgentEventKind.SPOOL_RECOVERED);
    assert.match(gateway.of("notice")[2]?.message ?? "", /spool accepts items again/);
    assert.equal(spool.append(event("fill", 10_000)).status, "queued");
    await until("the new item sent", () => gateway.batchSequences().length === queued + 51);
    assert.deepEqual(
      gateway.batchSequences(),
      Array.from({ length: queued + 51 }, (_, k) => BigInt(k + 1)),
      "every item once, in order",
    );
    const payloadSequences = gateway
      .of("batch")
      .flatMap((batch) => batch.items)
      .map((item) => (item.payload.case === "event" ? item.payload.value.sequence : 0));
    assert.deepEqual(
      payloadSequences.slice(queued, queued + 50),
      Array.from({ length: 50 }, (_, k) => queued + 1 + k),
      "the held items, oldest first",
    );
    assert.equal(await counterValue(metrics, "callmesh_agent_spool_full"), 0);
    assert.equal(gateway.of("notice").length, 3, "no notice is spooled or repeated");
  });

  it("sends a heartbeat with the host's and the spool's health at welcome and every interval", async () => {
    const spool = openDiskSpool(join(dir, "spool"), { limitBytes: 1024 * 1024 });
    spool.append(event("hb", 1));
    const link = createGatewayLink(
      linkOptions(gateway.url, {
        spool,
        heartbeatMs: 100,
        heartbeat: createAgentHeartbeat({
          spool,
          spoolDir: join(dir, "spool"),
          recordingDir: dir,
          pbx: { connected: true, pbxVersion: "20.20.1" },
          agentVersion: "1.2.3",
          logger,
        }),
      }),
    );
    stops.push(
      () => spool.close(),
      () => link.stop(),
    );
    link.start();
    await until("three heartbeats", () => gateway.of("heartbeat").length >= 3);
    for (const beat of gateway.of("heartbeat") as Heartbeat[]) {
      assert.equal(beat.pbxConnected, true);
      assert.equal(beat.pbxVersion, "20.20.1");
      assert.equal(beat.agentVersion, "1.2.3");
      assert.equal(beat.activeCalls, 0, "no count of calls given: 0");
      assert.ok(beat.cpuPercent >= 0 && beat.cpuPercent <= 100, `cpu ${beat.cpuPercent}`);
      assert.ok(beat.memoryTotalBytes > 0n && beat.memoryUsedBytes > 0n);
      assert.ok(beat.memoryUsedBytes <= beat.memoryTotalBytes);
      assert.equal(beat.spoolLimitBytes, 1024n * 1024n);
      assert.ok(beat.spoolBytes > 0n && beat.spoolBytes < beat.spoolLimitBytes);
      for (const [disk, path] of [
        [beat.spoolDisk, join(dir, "spool")],
        [beat.recordingDisk, dir],
      ] as const) {
        assert.equal(disk?.path, path);
        assert.ok(disk && disk.totalBytes > 0n && disk.freeBytes <= disk.totalBytes, JSON.stringify(String(disk)));
      }
    }
    assert.ok(gateway.of("heartbeat").some((beat) => beat.spoolDepth === 1n));
  });

  it("keeps notices given while no stream is up and sends them once the gateway welcomes the agent", async () => {
    const spool = openDiskSpool(dir);
    const metrics = new Registry();
    let builds = 0;
    const link = createGatewayLink(
      linkOptions(gateway.url, {
        spool,
        metrics,
        heartbeatMs: 50,
        heartbeat: () => {
          builds++;
          throw new Error("statfs failed");
        },
      }),
    );
    stops.push(
      () => spool.close(),
      () => link.stop(),
    );
    link.notify({ kind: AgentEventKind.PBX_DISCONNECTED, message: "PBX disconnected" });
    link.notify({ kind: AgentEventKind.PBX_CONNECTED, message: "PBX connected" });
    link.start();
    await until("two notices", () => gateway.of("notice").length === 2);
    assert.deepEqual(
      gateway.received.map((r) => r.message.case),
      ["hello", "notice", "notice"],
    );
    assert.deepEqual(
      gateway.of("notice").map((n) => n.kind),
      [AgentEventKind.PBX_DISCONNECTED, AgentEventKind.PBX_CONNECTED],
    );
    link.notify({ kind: AgentEventKind.PBX_DISCONNECTED, message: "again" });
    await until("a live notice", () => gateway.of("notice").length === 3);
    await until("failed heartbeats counted", () => builds >= 2);
    assert.ok((await counterValue(metrics, "callmesh_agent_heartbeat_send_failures_total", { reason: "build" })) >= 2);
  });
});
