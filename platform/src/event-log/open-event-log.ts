import type { DatabaseHandle } from "../database.js";
import type { EventLog } from "./event-log.js";
import { createPostgresEventLog } from "./postgres-event-log.js";

/** Picks the event log adapter from configuration. (Kafka joins here when KAFKA_BROKERS is set.) */
export function openEventLog(database: DatabaseHandle): Promise<EventLog> {
  return createPostgresEventLog(database);
}
