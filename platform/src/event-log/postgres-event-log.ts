import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { DatabaseHandle } from "../database.js";
import type { ConsumeOptions, EventLog, LogRecord } from "./event-log.js";
import { eventLog, eventLogOffsets } from "./schema.js";

const migrationsFolder = fileURLToPath(new URL("../../migrations/event-log", import.meta.url));
// Appends take this transaction-scoped lock so offsets become visible in order: without it
// a consumer could read offset 8 before a slower transaction commits offset 7, and skip 7.
const appendLockId = 7_340_001;

export interface PostgresEventLogOptions {
  /** How often consumers look for new records when nothing in this process woke them. */
  pollIntervalMs?: number;
}

/**
 * The event log as a PostgreSQL table: the embedded default (on PGlite) and the small
 * production size. Consumers poll; appends in this process wake them at once.
 */
export async function createPostgresEventLog(
  database: DatabaseHandle,
  options: PostgresEventLogOptions = {},
): Promise<EventLog> {
  await database.migrate({ migrationsFolder, migrationsTable: "__event_log_migrations" });
  const { db } = database;
  const appended = new EventEmitter();
  appended.setMaxListeners(0);
  const pollIntervalMs = options.pollIntervalMs ?? 250;

  async function append(records: readonly LogRecord[]): Promise<void> {
    if (records.length === 0) return;
    await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${appendLockId})`);
      await tx
        .insert(eventLog)
        .values(
          records.map((r) => ({
            topic: r.topic,
            key: r.key,
            recordId: r.id,
            value: r.value,
            headers: r.headers ?? null,
          })),
        )
        .onConflictDoNothing({ target: [eventLog.topic, eventLog.recordId] });
    });
    for (const topic of new Set(records.map((r) => r.topic))) appended.emit(topic);
  }

  async function committedOffset(group: string, topic: string): Promise<bigint> {
    const rows = await db
      .select({ offset: eventLogOffsets.offset })
      .from(eventLogOffsets)
      .where(and(eq(eventLogOffsets.group, group), eq(eventLogOffsets.topic, topic)));
    return rows[0]?.offset ?? 0n;
  }

  async function consume(o: ConsumeOptions): Promise<void> {
    const maxBatch = o.maxBatch ?? 500;
    let position = await committedOffset(o.group, o.topic);
    while (!o.signal.aborted) {
      try {
        const rows = await db
          .select()
          .from(eventLog)
          .where(and(eq(eventLog.topic, o.topic), gt(eventLog.offset, position)))
          .orderBy(asc(eventLog.offset))
          .limit(maxBatch);
        const last = rows[rows.length - 1];
        if (!last) {
          await waitForAppend(o.topic, o.signal);
          continue;
        }
        await o.handle(
          rows.map((row) => ({
            topic: o.topic,
            key: row.key,
            id: row.recordId,
            value: row.value,
            headers: row.headers ?? {},
            offset: row.offset.toString(),
          })),
        );
        await db
          .insert(eventLogOffsets)
          .values({ group: o.group, topic: o.topic, offset: last.offset })
          .onConflictDoUpdate({ target: [eventLogOffsets.group, eventLogOffsets.topic], set: { offset: last.offset } });
        position = last.offset;
      } catch (error) {
        // The handler or the database failed: keep the position and retry the same batch.
        o.onError?.(error);
        await sleep(1000, undefined, { signal: o.signal }).catch(() => {});
      }
    }
  }

  function waitForAppend(topic: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        appended.off(topic, done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, pollIntervalMs);
      appended.once(topic, done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  // The database belongs to whoever opened it; nothing of ours to release.
  return { append, consume, close: async () => {} };
}
