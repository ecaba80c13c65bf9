import { optionalVar, parseConfig, z } from "../config.js";
import type { DatabaseHandle } from "../database.js";
import type { Logger } from "../logging.js";
import type { EventLog } from "./event-log.js";
import { createKafkaEventLog } from "./kafka-event-log.js";
import { createPostgresEventLog } from "./postgres-event-log.js";

/** The event log's settings, part of every service's config that reads or writes it. */
export const eventLogConfigShape = {
  KAFKA_BROKERS: optionalVar().describe(
    "comma-separated Kafka bootstrap brokers (host:port); unset: a PostgreSQL table log",
  ),
  KAFKA_TOPIC_PARTITIONS: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(6)
    .describe("partitions of the call-events and cdrs topics when they are created"),
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).default(1).describe("replication factor of created topics"),
  KAFKA_TOPIC_PREFIX: z.string().default("").describe("prefix of topic and consumer group names"),
};

const eventLogConfigSchema = z.object(eventLogConfigShape);
export type EventLogConfig = z.infer<typeof eventLogConfigSchema>;

export const parseEventLogConfig = (env?: Record<string, string | undefined>) => parseConfig(eventLogConfigSchema, env);

/** Picks the event log adapter: Kafka when KAFKA_BROKERS is set, else the table log in `database`. */
export function openEventLog(
  database: DatabaseHandle,
  config: EventLogConfig,
  deps: { clientId: string; logger: Logger },
): Promise<EventLog> {
  if (!config.KAFKA_BROKERS) return createPostgresEventLog(database);
  return createKafkaEventLog({
    brokers: config.KAFKA_BROKERS.split(",").map((broker) => broker.trim()),
    clientId: deps.clientId,
    logger: deps.logger,
    partitions: config.KAFKA_TOPIC_PARTITIONS,
    replicationFactor: config.KAFKA_REPLICATION_FACTOR,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
  });
}
