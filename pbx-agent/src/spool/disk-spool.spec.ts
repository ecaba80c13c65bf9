import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  appendFileSync,
  copyFileSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { type AppendResult, openDiskSpool, type SpoolEvent, type SpoolPayload } from "./disk-spool.js";

const event = (callId: string, sequence: number): SpoolPayload => ({
  case: "event",
  value: { eventId: `${callId}:${sequence}`, callId, sequence },
});

const sequenceOf = (result: AppendResult) => {
  assert.equal(result.status, "queued");
  return result.status === "queued" ? result.sequence : 0n;
};

const segmentFiles = (dir: string) => readdirSync(dir).filter((n) => n.startsWith("segment-"));
const sequences = (spool: { unacked(after: bigint, max: number): { sequence: bigint }[] }) =>
  spool.unacked(0n, 100_000).map((i) => i.sequence);

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
    assert.equal(sequenceOf(spool.append(event("a", 1))), 1n);
    assert.equal(sequenceOf(spool.append(event("a", 2))), 2n);
    assert.equal(sequenceOf(spool.append(event("a", 3))), 3n);
    assert.deepEqual(spool.unacked(0n, 10), [], "nothing is handed out before it is on disk");
    await nextTurn();
    assert.equal(flushes, 1, "one group, one fsync");
    assert.deepEqual(sequences(spool), [1n, 2n, 3n]);
    assert.deepEqual(
      spool.unacked(1n, 1).map((i) => i.sequence),
      [2n],
    );
    spool.ack(2n);
    assert.equal(spool.depth, 1);
    assert.deepEqual(sequences(spool), [3n]);
    spool.close();
  });

  it("keeps unacked items and the sequence across a restart", async () => {
    const first = openDiskSpool(dir);
    for (let i = 1; i <= 5; i++) first.append(event("b", i));
    await nextTurn();
    first.ack(3n);
    // no close(): as after a SIGKILL
    const second = openDiskSpool(dir);
    assert.deepEqual(sequences(second), [4n, 5n]);
    assert.equal(second.ackedSequence, 3n);
    assert.equal(sequenceOf(second.append(event("b", 6))), 6n);
    second.close();
  });

  it("reads multi-byte sequences back on open", async () => {
    writeFileSync(join(dir, "acked"), String(2n ** 40n));
    const spool = openDiskSpool(dir);
    assert.equal(sequenceOf(spool.append(event("big", 1))), 2n ** 40n + 1n);
    spool.append(event("big", 2));
    spool.close();
    const reopened = openDiskSpool(dir);
    assert.deepEqual(sequences(reopened), [2n ** 40n + 1n, 2n ** 40n + 2n]);
    assert.equal(sequenceOf(reopened.append(event("big", 3))), 2n ** 40n + 3n);
    reopened.close();
  });

  it("cuts a torn last record and keeps everything before it", async () => {
    const spool = openDiskSpool(dir);
    spool.append(event("c", 1));
    spool.append(event("c", 2));
    spool.close();
    const segment = join(dir, segmentFiles(dir)[0] ?? "");
    const before = statSync(segment).size;
    appendFileSync(segment, Buffer.from([40, 0, 0, 0, 1, 2, 3])); // half a frame, as a kill mid-write leaves it
    const reopened = openDiskSpool(dir);
    assert.deepEqual(sequences(reopened), [1n, 2n]);
    assert.equal(statSync(segment).size, before);
    assert.equal(sequenceOf(reopened.append(event("c", 3))), 3n);
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
    again.ack(1n);
    assert.equal(segmentFiles(dir).length, 1);
    again.ack(2n);
    assert.equal(segmentFiles(dir).length, 0, "the segment being written goes too once all of it is acked");
    assert.equal(again.stats().bytes, 0);
    assert.equal(sequenceOf(again.append(event("d", 3))), 3n);
    again.close();
  });

  it("skips a second copy of records, as a write retried in a new file after a failure leaves", async () => {
    const spool = openDiskSpool(dir);
    for (let i = 1; i <= 3; i++) spool.append(event("e", i));
    spool.close();
    const [segment] = segmentFiles(dir);
    copyFileSync(join(dir, segment ?? ""), join(dir, `${segment}-1`));
    const reopened = openDiskSpool(dir);
    assert.deepEqual(sequences(reopened), [1n, 2n, 3n]);
    assert.equal(sequenceOf(reopened.append(event("e", 4))), 4n);
    reopened.close();
  });

  it("rotates segment files under a small limit, gives acked bytes back and survives a kill after rotation", async () => {
    const limitBytes = 64 * 1024; // segments of 4 KiB
    const spool = openDiskSpool(dir, { limitBytes });
    for (let i = 1; i <= 1000; i++) {
      spool.append(event("rotate", i));
      if (i % 10 === 0) await nextTurn(); // groups of 10, as a busy PBX gives them
    }
    await nextTurn();
    const before = spool.stats().bytes;
    assert.ok(segmentFiles(dir).length > 3, `several segments (${segmentFiles(dir).length})`);
    spool.ack(900n);
    assert.ok(spool.stats().bytes < before / 2, "acked segments are deleted");
    // no close(): a SIGKILL right after the rotation
    const reopened = openDiskSpool(dir, { limitBytes });
    assert.deepEqual(
      sequences(reopened),
      Array.from({ length: 100 }, (_, i) => BigInt(901 + i)),
    );
    reopened.ack(1000n);
    assert.deepEqual(segmentFiles(dir), []);
    const afterAllAcked = openDiskSpool(dir, { limitBytes }); // killed again, with every segment gone
    assert.equal(sequenceOf(afterAllAcked.append(event("rotate", 1001))), 1001n, "sequences still increase");
    afterAllAcked.close();
    reopened.close();
    spool.close();
  });

  it("reads items of older segments back from their files, in order, batch after batch", async () => {
    const spool = openDiskSpool(dir, { limitBytes: 64 * 1024 }); // 4 KiB segments
    for (let i = 1; i <= 1200; i++) {
      spool.append(event("read", i));
      if (i % 40 === 0) await nextTurn();
    }
    await nextTurn();
    assert.ok(segmentFiles(dir).length >= 8);
    const all = Array.from({ length: 1200 }, (_, k) => BigInt(k + 1));
    assert.deepEqual(sequences(spool), all);
    const batched: bigint[] = [];
    for (let after = 0n; ; ) {
      const batch = spool.unacked(after, 70);
      const last = batch.at(-1);
      if (!last) break;
      batched.push(...batch.map((item) => item.sequence));
      after = last.sequence;
    }
    assert.deepEqual(batched, all);
    assert.deepEqual(
      spool.unacked(1000n, 3).map((item) => (item.payload.case === "event" ? item.payload.value.sequence : 0)),
      [1001, 1002, 1003],
      "the payloads come back from disk too",
    );
    assert.equal(spool.depth, 1200);
    spool.ack(600n);
    assert.equal(spool.depth, 600);
    assert.equal(spool.unacked(0n, 1)[0]?.sequence, 601n);
    spool.close();
  });

  it("fills its size limit while nothing is acked: alerts, holds, then counts what it cannot keep; recovers on ack", async () => {
    const limitBytes = 64 * 1024;
    const spool = openDiskSpool(dir, { limitBytes, alertPercent: 80, overflowItems: 20 });
    const events: SpoolEvent[] = [];
    spool.onEvent((e) => events.push(e));
    const outcomes: AppendResult[] = [];
    let i = 0;
    while (!outcomes.some((o) => o.status === "rejected")) {
      outcomes.push(spool.append(event("fill", ++i)));
      if (i % 20 === 0) await nextTurn();
    }
    for (let extra = 0; extra < 4; extra++) outcomes.push(spool.append(event("fill", ++i)));
    await nextTurn();
    const queued = outcomes.filter((o) => o.status === "queued").length;
    const held = outcomes.filter((o) => o.status === "held").length;
    const rejected = outcomes.filter((o) => o.status === "rejected").length;
    assert.equal(held, 20, "the overflow holds its bound");
    assert.equal(rejected, 5);
    assert.deepEqual(
      events.map((e) => e.type),
      ["near_full", "full", "rejected", "rejected", "rejected", "rejected", "rejected"],
    );
    const nearFull = events[0];
    assert.ok(nearFull?.type === "near_full" && nearFull.bytes > limitBytes * 0.8 && nearFull.bytes <= limitBytes);
    const full = events[1];
    assert.ok(full?.type === "full" && full.cause === "limit");
    assert.ok(events.slice(2).every((e) => e.type === "rejected" && e.reason === "limit"));
    const stats = spool.stats();
    assert.ok(stats.full && stats.nearFull && stats.bytes <= limitBytes, JSON.stringify({ ...stats }));
    assert.equal(stats.held, 20);
    assert.ok(
      segmentFiles(dir).reduce((sum, n) => sum + statSync(join(dir, n)).size, 0) <= limitBytes,
      "the files stay within the limit",
    );

    // A SIGKILL now: everything written is there.
    const afterCrash = openDiskSpool(dir, { limitBytes });
    assert.deepEqual(
      sequences(afterCrash),
      Array.from({ length: queued }, (_, k) => BigInt(k + 1)),
    );

    // The gateway comes back and acks everything: the held items are written, in order, and new ones go straight in.
    spool.ack(BigInt(queued));
    await nextTurn();
    assert.equal(events.at(-1)?.type, "accepting");
    assert.equal(spool.stats().full, false);
    assert.equal(spool.stats().held, 0);
    const written = spool.unacked(0n, 1000);
    assert.deepEqual(
      written.map((item) => (item.payload.case === "event" ? item.payload.value.sequence : 0)),
      Array.from({ length: 20 }, (_, k) => queued + 1 + k),
      "the held items, oldest first",
    );
    assert.equal(sequenceOf(spool.append(event("fill", ++i))), BigInt(queued + 21));
    spool.close();
    const reopened = openDiskSpool(dir, { limitBytes });
    assert.equal(sequences(reopened).length, 21);
    reopened.close();
  });

  it("a disk that fails (ENOSPC from /dev/full) stops writing, holds items, and recovers when space returns", async () => {
    const spool = openDiskSpool(dir, { overflowItems: 3, retryMs: 20 });
    const events: SpoolEvent[] = [];
    spool.onEvent((e) => events.push(e));
    let durable = 0;
    spool.onDurable(() => durable++);
    // The next segment the spool opens is /dev/full: every write to it fails with ENOSPC.
    const nextSegment = join(dir, `segment-${"1".padStart(20, "0")}`);
    symlinkSync("/dev/full", nextSegment);
    assert.equal(spool.append(event("disk", 1)).status, "queued");
    assert.equal(spool.append(event("disk", 2)).status, "queued");
    // The group commit runs on a later turn; on a busy machine maybe not the next one.
    for (let waited = 0; events.length === 0 && waited < 5000; waited += 10) await sleep(10);
    assert.equal(durable, 0, "nothing reported durable");
    assert.deepEqual(sequences(spool), [], "nothing handed to the gateway");
    const full = events[0];
    assert.ok(full?.type === "full" && full.cause === "disk" && full.error?.code === "ENOSPC", String(full));
    assert.equal(spool.append(event("disk", 3)).status, "held");
    for (let k = 4; k <= 5; k++) spool.append(event("disk", k));
    assert.deepEqual(spool.append(event("disk", 6)), { status: "rejected", reason: "disk_error" });
    await sleep(60); // retries keep failing
    assert.equal(spool.stats().diskError?.code, "ENOSPC");
    assert.equal(events.filter((e) => e.type === "full").length, 1, "one alert, not one per retry");

    rmSync(nextSegment); // space returns
    for (let waited = 0; spool.stats().full && waited < 5000; waited += 10) await sleep(10);
    assert.equal(events.at(-1)?.type, "accepting");
    // The held items are written on the commit after the one that found space again.
    for (let waited = 0; sequences(spool).length < 5 && waited < 5000; waited += 10) await sleep(10);
    assert.deepEqual(sequences(spool), [1n, 2n, 3n, 4n, 5n]);
    assert.ok(durable >= 1);
    // no close(): everything it said is durable is on disk
    const reopened = openDiskSpool(dir);
    assert.deepEqual(sequences(reopened), [1n, 2n, 3n, 4n, 5n]);
    reopened.close();
    spool.close();
  });

  it("loses nothing it called durable when the process is SIGKILLed while writing, acking and rotating", async () => {
    // A child process writes groups as fast as it can under a 64 KiB limit, acks as it goes (so
    // segments rotate and are deleted), and prints each durable and acked sequence; then it is killed.
    const spoolModule = fileURLToPath(new URL("./disk-spool.ts", import.meta.url));
    const code = `
      import { openDiskSpool } from ${JSON.stringify(spoolModule)};
      const spool = openDiskSpool(${JSON.stringify(dir)}, { limitBytes: 64 * 1024, overflowItems: 0 });
      let last = 0n;
      spool.onDurable(() => {
        const durable = last;
        process.stdout.write("durable " + durable + "\\n");
        if (durable > 200n) {
          spool.ack(durable - 200n);
          process.stdout.write("acked " + (durable - 200n) + "\\n");
        }
      });
      let n = 0;
      const group = () => {
        for (let i = 0; i < 20; i++) {
          const result = spool.append({ case: "event", value: { eventId: "k:" + ++n, callId: "k", sequence: n } });
          if (result.status === "queued") last = result.sequence;
        }
        setImmediate(group);
      };
      group();
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    for (let waited = 0; (output.match(/acked/g)?.length ?? 0) < 200 && waited < 20_000; waited += 20) await sleep(20);
    child.kill("SIGKILL");
    await exited;
    const lines = output.split("\n");
    const lastOf = (word: string) =>
      lines
        .filter((line) => line.startsWith(`${word} `))
        .map((line) => BigInt(line.slice(word.length + 1)))
        .at(-1) ?? 0n;
    const durable = lastOf("durable");
    const ackedSequence = lastOf("acked");
    assert.ok(ackedSequence > 1000n, `the child ran long enough to rotate (acked ${ackedSequence})`);
    const reopened = openDiskSpool(dir, { limitBytes: 64 * 1024 });
    assert.ok(reopened.ackedSequence >= ackedSequence);
    const kept = sequences(reopened);
    const first = kept[0] ?? 0n;
    assert.equal(first, reopened.ackedSequence + 1n, "no gap after the last ack");
    assert.ok((kept.at(-1) ?? 0n) >= durable, `every durable item is there (${kept.at(-1)} >= ${durable})`);
    assert.deepEqual(
      kept,
      Array.from({ length: kept.length }, (_, k) => first + BigInt(k)),
      "in order, each once",
    );
    reopened.close();
  });
});
