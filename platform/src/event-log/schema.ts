import {
  bigint,
  bigserial,
  customType,
  index,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => "bytea" });

/** The PostgreSQL event log: one row per record, offsets from a sequence. */
export const eventLog = pgTable(
  "event_log",
  {
    offset: bigserial("offset", { mode: "bigint" }).primaryKey(),
    topic: text("topic").notNull(),
    key: text("key").notNull(),
    recordId: text("record_id").notNull(),
    value: bytea("value").notNull(),
    headers: jsonb("headers").$type<Record<string, string>>(),
    appendedAt: timestamp("appended_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex("event_log_topic_record_id").on(table.topic, table.recordId),
    index("event_log_topic_offset").on(table.topic, table.offset),
  ],
);

/** Committed position per consumer group and topic. */
export const eventLogOffsets = pgTable(
  "event_log_offsets",
  {
    group: text("group").notNull(),
    topic: text("topic").notNull(),
    offset: bigint("offset", { mode: "bigint" }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.group, table.topic] })],
);
