// Poison on the log (issue 3): garbage bytes and a valid protobuf of the wrong type on the cdrs
// topic end in the dead-letter topic with a reason, and the consumer goes on to the next good
// record — on the PostgreSQL table log and on Kafka.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { createPostgresCdrStore } from "@callmesh/cdr-service/adapters/postgres-cdr-store.js";
import { runCdrIngest } from "@callmesh/cdr-service/domain/cdr-ingest.js";
import { CallEventKind, CallEventSchema } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { CdrSchema } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import { openDatabase } from "@callmesh/platform/database.js";
import { type EventLog, Topic } from "@callmesh/platform/event-log/event-log.js";
import { createKafkaEventLog } from "@callmesh/platform/event-log/kafka-event-log.js";
import { createPostgresEventLog } from "@callmesh/platform/event-log/postgres-event-log.js";
import { createLogger } from "@callmesh/platform/logging.js";
import { createMetricsRegistry } from "@callmesh/platform/metrics.js";
import { eventually } from "./support/processes.js";
import { readTopic } from "./support/server.js";

const logger = createLogger("test", "silent");

async function poisonThenGood(eventLog: EventLog, store: Awaited<ReturnType<typeof createPostgresCdrStore>>) {
  const run = randomUUID();
  const wrongType = create(CallEventSchema, {
    eventId: `${run}:1`,
    callId: run,
    sequence: 1,
    kind: CallEventKind.HANGUP,
    tenantId: "t1",
  });
  const good = create(CdrSchema, { id: run, callId: run, tenantId: "t1", startedAt: timestampFromMs(Date.now()) });
  await eventLog.append([
    { topic: Topic.cdrs, key: run, id: `${run}:garbage`, value: new Uint8Array([0xff, 0xff, 0xff, 0x07, 0x00, 0x13]) },
    { topic: Topic.cdrs, key: run, id: `${run}:wrong-type`, value: toBinary(CallEventSchema, wrongType) },
    { topic: Topic.cdrs, key: run, id: run, value: toBinary(CdrSchema, good) },
  ]);
  const stopping = new AbortController();
  const ingest = runCdrIngest({
    eventLog,
    store,
    logger,
    metrics: createMetricsRegistry("test"),
    signal: stopping.signal,
  });
  try {
    await eventually(async () => store.get("t1", run), 20_000, "the good CDR stored after the poison");
    const parked = await readTopic(
      eventLog,
      Topic.deadLetter,
      (r) => r.filter((x) => x.key === run).length >= 2,
      20_000,
    );
    const mine = parked.filter((r) => r.key === run);
    // At-least-once: a batch redelivered after a rebalance parks its records again, under the
    // same record ids (the source offset), so whoever reads the dead letters can tell.
    assert.equal(new Set(mine.map((r) => r.id)).size, 2, JSON.stringify(mine.map((r) => [r.id, r.headers?.reason])));
    for (const record of mine) {
      assert.equal(record.headers?.source, Topic.cdrs);
      assert.ok(record.headers?.reason, "the reason travels with the parked record");
    }
  } finally {
    stopping.abort();
    await ingest;
  }
}

describe("poison messages on the cdrs topic", () => {
  it("are parked by cdr-service on the PostgreSQL table log", async () => {
    const dir = mkdtempSync(join(tmpdir(), "poison-"));
    const database = await openDatabase({ dataDir: dir });
    try {
      await poisonThenGood(
        await createPostgresEventLog(database, { pollIntervalMs: 50 }),
        await createPostgresCdrStore(database),
      );
    } finally {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("are parked by cdr-service on Kafka", async () => {
    const brokers = process.env.KAFKA_BROKERS;
    if (!brokers) throw new Error("KAFKA_BROKERS is not set: run via `npm test`, which starts Kafka");
    const dir = mkdtempSync(join(tmpdir(), "poison-"));
    const database = await openDatabase({ dataDir: dir });
    const eventLog = await createKafkaEventLog({
      brokers: brokers.split(","),
      clientId: "poison-test",
      logger,
      partitions: 2,
      topicPrefix: `poison-${randomUUID().slice(0, 8)}.`,
    });
    try {
      await poisonThenGood(eventLog, await createPostgresCdrStore(database));
    } finally {
      await eventLog.close();
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
