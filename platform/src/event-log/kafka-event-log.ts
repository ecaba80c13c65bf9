import { setTimeout as sleep } from "node:timers/promises";
import {
  type Consumer,
  type EachBatchPayload,
  Kafka,
  type KafkaMessage,
  logLevel,
  Partitioners,
  type Producer,
} from "kafkajs";
import type { Logger } from "../logging.js";
import { type ConsumedRecord, type ConsumeOptions, type EventLog, type LogRecord, Topic } from "./event-log.js";

export interface KafkaEventLogOptions {
  /** host:port of the bootstrap brokers. */
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Partitions of call-events and cdrs when this creates them; records of one call share a partition. */
  partitions?: number;
  replicationFactor?: number;
  /** Prefix of every topic name (separate environments, or test runs, on one cluster). */
  topicPrefix?: string;
  /**
   * How long the broker waits for a consumer's heartbeat before giving its partitions to
   * another member. Default 30 s; the broker bounds it (group.min.session.timeout.ms, 6 s).
   */
  sessionTimeoutMs?: number;
}

/** The record id travels as a header: Kafka has no identity of its own for a message. */
const idHeader = "callmesh-id";

/**
 * The event log on Kafka (kafkajs). Topics are created at start; the producer is
 * idempotent with acks from all in-sync replicas, one request in flight so retries keep
 * order; records are keyed by call so a call stays on one partition, in order. Consumers
 * take whole batches, commit only after the handler resolved, and keep retrying a failed
 * batch, so nothing is skipped across rebalances and broker restarts.
 */
export async function createKafkaEventLog(options: KafkaEventLogOptions): Promise<EventLog> {
  const prefix = options.topicPrefix ?? "";
  const name = (topic: Topic) => `${prefix}${topic}`;
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      const { message, ...rest } = entry.log;
      options.logger.warn({ kafka: rest, namespace: entry.namespace }, message);
    },
    retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries: 10 },
  });

  const admin = kafka.admin();
  await admin.connect();
  try {
    const partitions = options.partitions ?? 6;
    await admin.createTopics({
      waitForLeaders: true,
      topics: Object.values(Topic).map((topic) => ({
        topic: name(topic),
        numPartitions: topic === Topic.deadLetter ? 1 : partitions,
        replicationFactor: options.replicationFactor ?? 1,
      })),
    });
  } finally {
    await admin.disconnect();
  }

  // Unbounded retries: an idempotent producer that gives up may reorder or lose its sequence.
  // During a broker outage appends wait, the agent's window fills, and nothing is acked early.
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries: Number.MAX_SAFE_INTEGER },
  });
  await producer.connect();
  const consumers = new Set<Consumer>();

  async function append(records: readonly LogRecord[]): Promise<void> {
    if (records.length === 0) return;
    const byTopic = new Map<string, LogRecord[]>();
    for (const record of records) {
      const list = byTopic.get(record.topic) ?? [];
      list.push(record);
      byTopic.set(record.topic, list);
    }
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, list]) => ({
        topic: name(topic as Topic),
        messages: list.map((r) => ({
          key: r.key,
          value: Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
          headers: { ...r.headers, [idHeader]: r.id },
        })),
      })),
    });
  }

  async function consume(o: ConsumeOptions): Promise<void> {
    const maxBatch = o.maxBatch ?? 500;
    const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
    const consumer = kafka.consumer({
      groupId: `${prefix}${o.group}`,
      sessionTimeout,
      heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeout / 3)),
      retry: {
        retries: Number.MAX_SAFE_INTEGER,
        initialRetryTime: 300,
        maxRetryTime: 5_000,
        restartOnFailure: async () => true,
      },
    });
    consumers.add(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: name(o.topic), fromBeginning: true });
    const stopped = new Promise<void>((resolve) => o.signal.addEventListener("abort", () => resolve(), { once: true }));

    // The batch in hand: stopping waits for it, so its commit is not cut off by the disconnect.
    let inFlight: Promise<void> = Promise.resolve();
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => {
        inFlight = handleBatch(payload);
        return inFlight;
      },
    });

    if (!o.signal.aborted) await stopped;
    await inFlight.catch(() => {});
    await consumer.disconnect();
    consumers.delete(consumer);

    async function handleBatch(payload: EachBatchPayload): Promise<void> {
      // A slow store must not cost the partition: without heartbeats for a session timeout
      // the broker hands it to another member, which reads the same batch again, and so on.
      // kafkajs sends at most one heartbeat per heartbeatInterval, however often it is asked.
      const keepAlive = setInterval(() => payload.heartbeat().catch(() => {}), 1000);
      try {
        await handleChunks(payload);
      } finally {
        clearInterval(keepAlive);
      }
    }

    async function handleChunks({
      batch,
      heartbeat,
      isRunning,
      isStale,
      resolveOffset,
    }: EachBatchPayload): Promise<void> {
      for (let start = 0; start < batch.messages.length; start += maxBatch) {
        const chunk = batch.messages.slice(start, start + maxBatch);
        const records = chunk.map((m) => toRecord(o.topic, batch.partition, m));
        // Retry the same records until they are handled; give up only when this
        // consumer no longer owns the partition (a rebalance) or is stopping.
        for (;;) {
          if (!isRunning() || isStale() || o.signal.aborted) return;
          try {
            await o.handle(records);
            break;
          } catch (error) {
            o.onError?.(error);
            await sleep(1000);
            await heartbeat();
          }
        }
        const last = chunk[chunk.length - 1];
        if (!last) continue;
        // Resolving moves this consumer's fetch position; committing alone does not, and the
        // next fetch would hand back the same records again, and again.
        resolveOffset(last.offset);
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() },
        ]);
        await heartbeat();
      }
    }
  }

  return {
    append,
    consume,
    async close() {
      await Promise.all([...consumers].map((c) => c.disconnect()));
      await producer.disconnect();
    },
  };
}

function toRecord(topic: Topic, partition: number, message: KafkaMessage): ConsumedRecord {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(message.headers ?? {})) {
    if (value !== undefined) headers[key] = Array.isArray(value) ? String(value[0]) : String(value);
  }
  const { [idHeader]: id = "", ...rest } = headers;
  return {
    topic,
    key: message.key?.toString("utf8") ?? "",
    id,
    value: message.value ?? new Uint8Array(),
    headers: rest,
    offset: `${partition}:${message.offset}`,
  };
}
