import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { openDiskSpool, type SpoolPayload } from "./disk-spool.js";

const event = (callId: string, sequence: number): SpoolPayload => ({
  case: "event",
  value: { eventId: `${callId}:${sequence}`, callId, sequence },
});

describe("disk spool", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "spool-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("makes items durable in order and hands out only the unacked ones", async () => {
    const spool = openDiskSpool(dir);
    let flushes = 0;
    spool.onDurable(() => flushes++);
    assert.equal(spool.append(event("a", 1)), 1n);
    assert.equal(spool.append(event("a", 2)), 2n);
    assert.equal(spool.append(event("a", 3)), 3n);
    assert.deepEqual(spool.unacked(0n, 10), [], "nothing is handed out before it is on disk");
    await nextTurn();
    assert.equal(flushes, 1, "one group, one fsync");
    assert.deepEqual(
      spool.unacked(0n, 10).map((i) => i.sequence),
      [1n, 2n, 3n],
    );
    assert.deepEqual(
      spool.unacked(1n, 1).map((i) => i.sequence),
      [2n],
    );
    spool.ack(2n);
    assert.equal(spool.depth, 1);
    assert.deepEqual(
      spool.unacked(0n, 10).map((i) => i.sequence),
      [3n],
    );
    spool.close();
  });

  it("keeps unacked items and the sequence across a restart", async () => {
    const first = openDiskSpool(dir);
    for (let i = 1; i <= 5; i++) first.append(event("b", i));
    await nextTurn();
    first.ack(3n);
    // no close(): as after a SIGKILL
    const second = openDiskSpool(dir);
    assert.deepEqual(
      second.unacked(0n, 10).map((i) => i.sequence),
      [4n, 5n],
    );
    assert.equal(second.ackedSequence, 3n);
    assert.equal(second.append(event("b", 6)), 6n);
    second.close();
  });

  it("cuts a torn last record and keeps everything before it", async () => {
    const spool = openDiskSpool(dir);
    spool.append(event("c", 1));
    spool.append(event("c", 2));
    spool.close();
    const segment = join(dir, readdirSync(dir).find((n) => n.startsWith("segment-")) ?? "");
    const before = statSync(segment).size;
    appendFileSync(segment, Buffer.from([40, 0, 0, 0, 1, 2, 3])); // half a frame, as a kill mid-write leaves it
    const reopened = openDiskSpool(dir);
    assert.deepEqual(
      reopened.unacked(0n, 10).map((i) => i.sequence),
      [1n, 2n],
    );
    assert.equal(statSync(segment).size, before);
    assert.equal(reopened.append(event("c", 3)), 3n);
    reopened.close();
  });

  it("deletes segments once everything in them is acked", async () => {
    const spool = openDiskSpool(dir);
    spool.append(event("d", 1));
    await nextTurn();
    spool.close();
    const again = openDiskSpool(dir); // a restart opens a new segment
    again.append(event("d", 2));
    await nextTurn();
    again.ack(2n);
    assert.equal(readdirSync(dir).filter((n) => n.startsWith("segment-")).length, 1);
    again.close();
  });
});
