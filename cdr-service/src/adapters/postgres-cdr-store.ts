import { fileURLToPath } from "node:url";
import { fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { type Cdr, CdrSchema } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import type { DatabaseHandle } from "@callmesh/platform/database.js";
import { and, arrayContains, desc, eq, gte, lt, or, type SQL, sql } from "drizzle-orm";
import { cdrExtensions, cdrStartedAtMs } from "../domain/cdr-search-keys.js";
import type { CdrQuery, CdrStore } from "../ports/cdr-store.js";
import { cdrs } from "./postgres-schema.js";

const migrationsFolder = fileURLToPath(new URL("../../migrations", import.meta.url));

/** The CDR store on PostgreSQL (or PGlite): one row per (tenant, CDR id). */
export async function createPostgresCdrStore(database: DatabaseHandle): Promise<CdrStore> {
  await database.migrate({ migrationsFolder, migrationsTable: "__cdr_service_migrations" });
  const { db } = database;

  return {
    async upsert(records) {
      if (records.length === 0) return;
      // Last write wins within a batch too: Postgres refuses one statement touching a row twice.
      const unique = new Map(records.map((cdr) => [`${cdr.tenantId}\u0000${cdr.id}`, cdr]));
      await db
        .insert(cdrs)
        .values([...unique.values()].map(toRow))
        .onConflictDoUpdate({
          target: [cdrs.tenantId, cdrs.id],
          set: {
            callId: sql`excluded.call_id`,
            startedAtMs: sql`excluded.started_at_ms`,
            direction: sql`excluded.direction`,
            status: sql`excluded.status`,
            extensions: sql`excluded.extensions`,
            record: sql`excluded.record`,
          },
        });
    },

    async list(query: CdrQuery) {
      const filters: (SQL | undefined)[] = [eq(cdrs.tenantId, query.tenantId)];
      if (query.startedFrom !== undefined) filters.push(gte(cdrs.startedAtMs, query.startedFrom));
      if (query.startedBefore !== undefined) filters.push(lt(cdrs.startedAtMs, query.startedBefore));
      if (query.direction) filters.push(eq(cdrs.direction, query.direction));
      if (query.extension) filters.push(arrayContains(cdrs.extensions, [query.extension]));
      if (query.after) {
        const { startedAtMs, id } = query.after;
        filters.push(or(lt(cdrs.startedAtMs, startedAtMs), and(eq(cdrs.startedAtMs, startedAtMs), lt(cdrs.id, id))));
      }
      const rows = await db
        .select({ record: cdrs.record, startedAtMs: cdrs.startedAtMs, id: cdrs.id })
        .from(cdrs)
        .where(and(...filters))
        .orderBy(desc(cdrs.startedAtMs), desc(cdrs.id))
        .limit(query.limit + 1);
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      return {
        cdrs: page.map((row) => fromJson(CdrSchema, row.record as JsonValue)),
        next: rows.length > query.limit && last ? { startedAtMs: last.startedAtMs, id: last.id } : undefined,
      };
    },

    async get(tenantId, id) {
      const rows = await db
        .select({ record: cdrs.record })
        .from(cdrs)
        .where(and(eq(cdrs.tenantId, tenantId), eq(cdrs.id, id)));
      const row = rows[0];
      return row ? fromJson(CdrSchema, row.record as JsonValue) : undefined;
    },
  };
}

function toRow(cdr: Cdr) {
  return {
    tenantId: cdr.tenantId,
    id: cdr.id,
    callId: cdr.callId,
    startedAtMs: cdrStartedAtMs(cdr),
    direction: cdr.direction,
    status: cdr.status,
    extensions: cdrExtensions(cdr),
    record: toJson(CdrSchema, cdr),
  };
}
