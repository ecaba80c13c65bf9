// The behaviour every EventLog adapter keeps, run by each adapter's spec.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { ConsumedRecord, EventLog, LogRecord } from "./event-log.js";
import { Topic } from "./event-log.js";

export interface EventLogUnderTest {
  log: EventLog;
  close(): Promise<void>;
}

const record = (run: string, key: string, n: number, topic: Topic = Topic.cdrs): LogRecord => ({
  topic,
  key: `${run}:${key}`,
  id: `${run}:${key}:${n}`,
  value: new TextEncoder().encode(`${key}-${n}`),
  headers: { n: String(n) },
});

/**
 * Consumes `topic` with `group` until `enough` holds for the records of this run, then stops.
 * Records of other runs (a shared Kafka cluster) are ignored.
 */
async function consumeUntil(
  log: EventLog,
  options: { group: string; topic?: Topic; run: string; maxBatch?: number },
  enough: (records: ConsumedRecord[]) => boolean,
  handle: (batch: ConsumedRecord[]) => Promise<void> = async () => {},
  timeoutMs = 20_000,
): Promise<ConsumedRecord[]> {
  const seen: ConsumedRecord[] = [];
  const done = new AbortController();
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([done.signal, timeout]);
  await log.consume({
    group: options.group,
    topic: options.topic ?? Topic.cdrs,
    maxBatch: options.maxBatch,
    signal,
    async handle(batch) {
      await handle(batch);
      seen.push(...batch.filter((r) => r.key.startsWith(`${options.run}:`)));
      if (enough(seen)) done.abort();
    },
  });
  if (timeout.aborted && !done.signal.aborted)
    throw new Error(`consumer saw ${seen.length} records, not enough, in time`);
  return seen;
}

export function describeEventLogContract(name: string, open: () => Promise<EventLogUnderTest>): void {
  describe(`EventLog contract: ${name}`, () => {
    let subject: EventLogUnderTest;
    before(async () => {
      subject = await open();
    });
    after(() => subject.close());

    it("hands back what was appended: key, id, value and headers, in order per key", async () => {
      const run = randomUUID();
      const appended = [1, 2, 3, 4, 5].flatMap((n) => [record(run, "a", n), record(run, "b", n)]);
      await subject.log.append(appended);
      const seen = await consumeUntil(subject.log, { group: `g-${run}`, run }, (r) => r.length >= 10);
      for (const key of ["a", "b"]) {
        const ofKey = seen.filter((r) => r.key === `${run}:${key}`);
        assert.deepEqual(
          ofKey.map((r) => r.id),
          [1, 2, 3, 4, 5].map((n) => `${run}:${key}:${n}`),
        );
        assert.equal(new TextDecoder().decode(ofKey[0]?.value), `${key}-1`);
        assert.equal(ofKey[0]?.headers?.n, "1");
      }
    });

    it("gives every group every record, and a group each record once across restarts", async () => {
      const run = randomUUID();
      await subject.log.append([1, 2, 3].map((n) => record(run, "k", n)));
      const group = `g-${run}`;
      const first = await consumeUntil(subject.log, { group, run }, (r) => r.length >= 3);
      assert.equal(first.length, 3);
      const other = await consumeUntil(subject.log, { group: `other-${run}`, run }, (r) => r.length >= 3);
      assert.equal(other.length, 3, "another group sees them all too");

      await subject.log.append([4, 5].map((n) => record(run, "k", n)));
      const second = await consumeUntil(subject.log, { group, run }, (r) => r.length >= 2);
      assert.deepEqual(
        second.map((r) => r.id),
        [`${run}:k:4`, `${run}:k:5`],
        "the restarted group resumes after what it committed",
      );
    });

    it("retries a batch whose handler failed, and commits only after it succeeded", async () => {
      const run = randomUUID();
      await subject.log.append([1, 2].map((n) => record(run, "r", n)));
      let failures = 0;
      const seen = await consumeUntil(
        subject.log,
        { group: `g-${run}`, run },
        (r) => r.length >= 2,
        async (batch) => {
          if (batch.some((r) => r.key.startsWith(`${run}:`)) && failures < 2) {
            failures++;
            throw new Error("store down");
          }
        },
      );
      assert.equal(failures, 2);
      assert.deepEqual(
        seen.map((r) => r.id),
        [`${run}:r:1`, `${run}:r:2`],
      );
    });

    it("keeps topics apart and batches no larger than asked", async () => {
      const run = randomUUID();
      await subject.log.append([
        ...[1, 2, 3, 4, 5, 6, 7].map((n) => record(run, "t", n, Topic.callEvents)),
        record(run, "t", 1, Topic.deadLetter),
      ]);
      let largest = 0;
      const events = await consumeUntil(
        subject.log,
        { group: `g-${run}`, topic: Topic.callEvents, run, maxBatch: 3 },
        (r) => r.length >= 7,
        async (batch) => {
          largest = Math.max(largest, batch.length);
        },
      );
      assert.equal(events.length, 7);
      assert.ok(largest <= 3, `batch of ${largest}`);
      assert.ok(events.every((r) => r.topic === Topic.callEvents));
    });

    it("accepts an empty append", async () => {
      await subject.log.append([]);
    });
  });
}
