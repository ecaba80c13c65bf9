// bench/pipeline: end-to-end CDR throughput and latency, agent stream in → stored in MongoDB,
// on the real servers (npm run servers:start; env $(npm run -s servers:env) npm run bench:pipeline),
// against a naive pipeline measured in the same run on the same servers: one Kafka produce per
// CDR, one insertOne per CDR. Both are timed the same way: a CDR counts as stored when the
// collection's count first covers it (sampled every 10 ms), so latency = that moment − its send.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { parseCdrServiceConfig } from "@callmesh/cdr-service/config.js";
import { startCdrService } from "@callmesh/cdr-service/main.js";
import { parseGatewayConfig } from "@callmesh/gateway/config.js";
import { ensureDevTenant } from "@callmesh/gateway/domain/dev-bootstrap.js";
import { startGateway } from "@callmesh/gateway/main.js";
import { CallDirection, CallStatus } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import { type Cdr, CdrSchema } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import { openDatabase } from "@callmesh/platform/database.js";
import { openEventLog, parseEventLogConfig } from "@callmesh/platform/event-log/open-event-log.js";
import { createLogger } from "@callmesh/platform/logging.js";
import { Kafka, logLevel } from "kafkajs";
import { MongoClient } from "mongodb";
import { connectFakeAgent } from "../test/support/fake-agent.js";
import { testCredentials } from "../test/support/server.js";

const total = Number(process.env.BENCH_CDRS ?? 10_000);
const naiveTotal = Number(process.env.BENCH_NAIVE_CDRS ?? Math.min(total, 3_000));
for (const name of ["DATABASE_URL", "KAFKA_BROKERS", "MONGODB_URL"]) {
  if (!process.env[name])
    throw new Error(
      `${name} is not set: npm run servers:start, then env $(npm run -s servers:env) npm run bench:pipeline`,
    );
}
const run = randomUUID().slice(0, 8);
const logger = createLogger("bench", "silent");
const mongo = new MongoClient(String(process.env.MONGODB_URL));

function cdrAt(i: number): Cdr {
  const callId = `${run}-${i}`;
  return create(CdrSchema, {
    id: callId,
    callId,
    tenantId: testCredentials.tenantId,
    direction: CallDirection.INBOUND,
    fromNumber: "+35799123456",
    toNumber: "35722555101",
    answeredBy: "1001",
    rungExtensions: ["1001"],
    status: CallStatus.SUCCESS,
    startedAt: timestampFromMs(Date.now()),
    endedAt: timestampFromMs(Date.now() + 3000),
    talkSeconds: 3,
  });
}

/** Samples `count()` until it reaches `n`; returns when each index was first covered. */
function watchStored(count: () => Promise<number>, n: number): Promise<number[]> {
  const storedAt: number[] = [];
  return new Promise((resolve, reject) => {
    const tick = async () => {
      try {
        const c = await count();
        const now = performance.now();
        while (storedAt.length < Math.min(c, n)) storedAt.push(now);
        if (storedAt.length >= n) return resolve(storedAt);
        setTimeout(tick, 10);
      } catch (error) {
        reject(error);
      }
    };
    void tick();
  });
}

function summary(name: string, n: number, sentAt: number[], storedAt: number[]) {
  const elapsed = (storedAt[n - 1] ?? 0) - (sentAt[0] ?? 0);
  const latencies = sentAt.map((s, i) => (storedAt[i] ?? 0) - s).sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  return { name, cdrs: n, perSecond: (n / elapsed) * 1000, p50: pct(50), p99: pct(99) };
}

async function ours() {
  const dataDir = mkdtempSync(join(tmpdir(), "bench-"));
  const database = await openDatabase({ url: process.env.DATABASE_URL, dataDir });
  const env = { ...process.env, KAFKA_TOPIC_PREFIX: `bench-${run}.`, MONGODB_DATABASE: `bench_${run}` };
  const eventLog = await openEventLog(database, parseEventLogConfig(env), { clientId: "bench", logger });
  const cdr = await startCdrService(parseCdrServiceConfig({ ...env, CDR_SERVICE_PORT: "0" }), {
    database,
    eventLog,
    logger,
  });
  const gateway = await startGateway(
    parseGatewayConfig({
      CALLMESH_HOST: "127.0.0.1",
      CALLMESH_PORT: "0",
      CDR_SERVICE_URL: `http://127.0.0.1:${cdr.port}`,
    }),
    { database, eventLog, logger },
  );
  await ensureDevTenant(gateway.directory, testCredentials);
  const agent = connectFakeAgent(
    `http://127.0.0.1:${gateway.port}`,
    testCredentials.agentToken,
    testCredentials.agentId,
  );
  await agent.next("welcome", 10_000);

  const collection = mongo.db(`bench_${run}`).collection("cdrs");
  const watching = watchStored(() => collection.countDocuments({}), total);
  const sentAt: number[] = [];
  const batchSize = 500;
  const window = 8;
  const unacked: bigint[] = []; // last sequence of each batch sent and not acked, as the real agent keeps
  for (let i = 0; i < total; i += batchSize) {
    while (unacked.length >= window) {
      const { sequence } = await agent.next("ack", 60_000);
      while ((unacked[0] ?? sequence + 1n) <= sequence) unacked.shift();
    }
    const items = [];
    for (let n = i; n < Math.min(total, i + batchSize); n++) {
      sentAt.push(performance.now());
      items.push({ sequence: BigInt(n + 1), payload: { case: "cdr" as const, value: cdrAt(n) } });
    }
    agent.send({ case: "batch", value: { items } });
    unacked.push(BigInt(Math.min(total, i + batchSize)));
  }
  const storedAt = await watching;
  agent.close();
  await gateway.stop(100);
  await cdr.stop();
  await eventLog.close();
  await database.close();
  await mongo.db(`bench_${run}`).dropDatabase();
  rmSync(dataDir, { recursive: true, force: true });
  return summary("callmesh (batched stream → Kafka → bulk upsert)", total, sentAt, storedAt);
}

async function naive() {
  const kafka = new Kafka({
    clientId: "bench-naive",
    brokers: String(process.env.KAFKA_BROKERS).split(","),
    logLevel: logLevel.NOTHING,
  });
  const topic = `bench-${run}.naive`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const consumer = kafka.consumer({ groupId: `bench-${run}-naive` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const collection = mongo.db(`bench_${run}_naive`).collection("cdrs");
  await consumer.run({
    eachMessage: async ({ message }) => {
      await collection.insertOne({ _id: message.key?.toString() as never, value: message.value });
    },
  });
  const watching = watchStored(() => collection.countDocuments({}), naiveTotal);
  const sentAt: number[] = [];
  for (let i = 0; i < naiveTotal; i++) {
    const cdr = cdrAt(i);
    sentAt.push(performance.now());
    await producer.send({ topic, acks: -1, messages: [{ key: cdr.id, value: Buffer.from(toBinary(CdrSchema, cdr)) }] });
  }
  const storedAt = await watching;
  await consumer.disconnect();
  await producer.disconnect();
  await mongo.db(`bench_${run}_naive`).dropDatabase();
  return summary("naive (one produce, one insertOne per CDR)", naiveTotal, sentAt, storedAt);
}

const a = await ours();
const b = await naive();
await mongo.close();
const row = (r: ReturnType<typeof summary>) =>
  `| ${r.name} | ${r.cdrs} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} |`;
process.stdout.write(
  [
    "| pipeline | CDRs | CDRs/s | p50 ms | p99 ms |",
    "|---|---|---|---|---|",
    row(a),
    row(b),
    "",
    `throughput ratio callmesh / naive: ${(a.perSecond / b.perSecond).toFixed(1)}x`,
    "",
  ].join("\n"),
);
process.exit(0);
