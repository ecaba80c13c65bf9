import { bigint, index, integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";

/** CDRs, one row per call: the record as protobuf JSON plus the columns queries filter on. */
export const cdrs = pgTable(
  "cdrs",
  {
    tenantId: text("tenant_id").notNull(),
    id: text("id").notNull(),
    callId: text("call_id").notNull(),
    /** Start of the call, ms since epoch (the precision of the sort key and page tokens). */
    startedAtMs: bigint("started_at_ms", { mode: "number" }).notNull(),
    direction: integer("direction").notNull(),
    status: integer("status").notNull(),
    /** Every extension involved: caller, rung, answering. */
    extensions: text("extensions").array().notNull(),
    record: jsonb("record").notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.tenantId, table.id] }),
    index("cdrs_tenant_started").on(table.tenantId, table.startedAtMs.desc(), table.id.desc()),
  ],
);
