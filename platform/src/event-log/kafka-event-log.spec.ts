import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "../logging.js";
import { describeEventLogContract } from "./event-log.contract.js";
import { type ConsumedRecord, type EventLog, type LogRecord, Topic } from "./event-log.js";
import { createKafkaEventLog, type KafkaEventLogOptions } from "./kafka-event-log.js";

const brokers = process.env.KAFKA_BROKERS;
if (!brokers) {
  throw new Error(
    "KAFKA_BROKERS is not set: run the tests with `npm test` (it starts Kafka) or `npm run servers:start`",
  );
}

const openLog = (topicPrefix: string, extra: Partial<KafkaEventLogOptions> = {}) =>
  createKafkaEventLog({
    brokers: (brokers as string).split(","),
    clientId: "contract-test",
    logger: createLogger("test", (process.env.TEST_LOG_LEVEL ?? "silent") as "silent"),
    partitions: 3,
    topicPrefix,
    ...extra,
  });

describeEventLogContract("Kafka", async () => {
  const log = await openLog(`test-${randomUUID().slice(0, 8)}.`);
  return { log, close: () => log.close() };
});

const recordsOf = (keys: number, perKey: number): LogRecord[] =>
  Array.from({ length: keys * perKey }, (_, i) => {
    const key = `call-${i % keys}`;
    const n = Math.floor(i / keys);
    return { topic: Topic.cdrs, key, id: `${key}:${n}`, value: new TextEncoder().encode(String(n)), headers: {} };
  });

/** Starts a consumer of cdrs in `group` that records what it handled; `stop()` waits for it to leave. */
function member(log: EventLog, group: string, handled: ConsumedRecord[], handleMs = 0) {
  const stop = new AbortController();
  const running = log.consume({
    group,
    topic: Topic.cdrs,
    maxBatch: 10,
    signal: stop.signal,
    async handle(batch) {
      if (handleMs > 0) await sleep(handleMs);
      handled.push(...batch);
    },
  });
  return {
    async stop() {
      stop.abort();
      await running;
    },
  };
}

async function until(what: string, done: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe("Kafka event log: consumer groups", { timeout: 180_000 }, () => {
  it("two members share the partitions; a member joining and one leaving lose nothing and keep each key in order", async () => {
    const prefix = `rebalance-${randomUUID().slice(0, 8)}.`;
    const [producer, first, second] = [await openLog(prefix), await openLog(prefix), await openLog(prefix)];
    try {
      // 6,000 records, ~15 s of work for one member: more than a rebalance takes on a busy machine.
      const records = recordsOf(30, 200);
      await producer.append(records);
      const byFirst: ConsumedRecord[] = [];
      const bySecond: ConsumedRecord[] = [];
      const a = member(first, "billing", byFirst, 25);
      await until("the first member to handle 100 records", () => byFirst.length >= 100, 60_000);
      const b = member(second, "billing", bySecond, 25);
      await until("the second member to get partitions", () => bySecond.length >= 10, 120_000);
      await a.stop();
      const handledIds = () => new Set([...byFirst, ...bySecond].map((r) => r.id));
      await until("every record handled", () => handledIds().size === records.length, 120_000);
      await b.stop();

      assert.equal(handledIds().size, records.length, "every record handled at least once");
      const all = [...byFirst, ...bySecond];
      // At least once: a batch in hand at a rebalance may be handled again by the new owner;
      // never more than a few batches (10 records each) per rebalance.
      assert.ok(all.length - records.length <= 100, `${all.length - records.length} redeliveries`);
      // A key's partition moves from the first member to the second at most once, so the
      // first member's records then the second's are the order each key was handled in.
      for (const key of new Set(records.map((r) => r.key))) {
        const firstSeen = [...new Map(all.filter((r) => r.key === key).map((r) => [r.id, r])).values()];
        const order = firstSeen.map((r) => Number(new TextDecoder().decode(r.value)));
        assert.deepEqual(
          order,
          [...order].sort((x, y) => x - y),
          `${key} first handled in order`,
        );
      }
    } finally {
      await Promise.all([producer.close(), first.close(), second.close()]);
    }
  });

  it("a batch handled for longer than the session timeout keeps its partition: nothing is handled twice", async () => {
    const prefix = `slow-${randomUUID().slice(0, 8)}.`;
    const log = await openLog(prefix, { sessionTimeoutMs: 6_000 });
    try {
      const records = recordsOf(3, 4);
      await log.append(records);
      const handled: ConsumedRecord[] = [];
      const stop = new AbortController();
      let slow = true;
      const running = log.consume({
        group: "slow-store",
        topic: Topic.cdrs,
        signal: stop.signal,
        async handle(batch) {
          if (slow) {
            slow = false;
            await sleep(9_000); // a store stalled past the 6 s session
          }
          handled.push(...batch);
        },
      });
      await until("every record handled", () => new Set(handled.map((r) => r.id)).size === records.length, 60_000);
      await sleep(3_000); // a lost partition would come back now, redelivered
      stop.abort();
      await running;
      assert.equal(handled.length, records.length, "each record handled exactly once");
    } finally {
      await log.close();
    }
  });
});
