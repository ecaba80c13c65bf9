import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createLogger } from "@callmesh/platform/logging.js";
import { openDiskSpool } from "../spool/disk-spool.js";
import { createAgentHeartbeat } from "./agent-heartbeat.js";
import { createCpuSampler, diskUsage, memoryUsage } from "./host-metrics.js";

describe("host metrics", () => {
  it("measures CPU between two samples from the cores' time deltas, 0 to 100", () => {
    const times = [
      { busy: 1000, total: 4000 },
      { busy: 1500, total: 5000 }, // 500 of 1000 ms busy
      { busy: 1500, total: 5000 }, // no time passed
      { busy: 9500, total: 13_000 }, // all busy
    ];
    let call = 0;
    const sample = createCpuSampler(() => times[call++] ?? { busy: 0, total: 0 });
    assert.equal(sample(), 50);
    assert.equal(sample(), 0);
    assert.equal(sample(), 100);
    const real = createCpuSampler();
    for (let i = 0; i < 1e6; i++) Math.sqrt(i); // some work
    const percent = real();
    assert.ok(percent >= 0 && percent <= 100, String(percent));
  });

  it("reads memory and a directory's disk", async () => {
    const memory = memoryUsage();
    assert.ok(memory.totalBytes > 0 && memory.usedBytes > 0 && memory.usedBytes <= memory.totalBytes);
    const disk = await diskUsage(tmpdir());
    assert.equal(disk.path, tmpdir());
    assert.ok(disk.totalBytes > 0n && disk.freeBytes <= disk.totalBytes);
    await assert.rejects(diskUsage("/no/such/dir"), /ENOENT/);
  });

  it("leaves a disk it cannot measure out of the heartbeat, logging it once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "heartbeat-"));
    const lines: string[] = [];
    const logger = createLogger("test", "warn", { write: (line: string) => lines.push(line) });
    const spool = openDiskSpool(dir);
    const heartbeat = createAgentHeartbeat({
      spool,
      spoolDir: dir,
      recordingDir: join(dir, "recordings"), // not there (yet)
      pbx: { connected: false, pbxVersion: "" },
      agentVersion: "0.1.0",
      activeCalls: () => 3,
      logger,
    });
    const first = await heartbeat();
    const second = await heartbeat();
    assert.equal(first.recordingDisk, undefined);
    assert.equal(second.spoolDisk?.path, dir);
    assert.equal(second.activeCalls, 3);
    assert.equal(second.pbxConnected, false);
    assert.equal(lines.filter((l) => l.includes("cannot measure disk")).length, 1);
    spool.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
