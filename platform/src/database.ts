import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";

/** A drizzle database over PostgreSQL or PGlite; the same schema and queries serve both. */
export type Database = PgDatabase<PgQueryResultHKT>;

export interface DatabaseHandle {
  readonly db: Database;
  /** "postgres" when DATABASE_URL named a server, "pglite" for the embedded default. */
  readonly kind: "postgres" | "pglite";
  /** Applies a package's drizzle-kit migrations, tracked in its own table. */
  migrate(options: { migrationsFolder: string; migrationsTable: string }): Promise<void>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the config/log database: PostgreSQL when `url` is set, else PGlite (PostgreSQL
 * in-process) with its files in `dataDir`. PGlite is single-process: every part of the
 * system that shares it must run in the process that opened it.
 */
export async function openDatabase(options: {
  url?: string | undefined;
  dataDir: string;
  /** Told when the server ends an idle pooled connection (PostgreSQL only). */
  onIdleError?: (error: Error) => void;
}): Promise<DatabaseHandle> {
  if (options.url) {
    const pool = new pg.Pool({ connectionString: options.url, max: 10 });
    // An idle connection the server ended (restart, failover, admin) is dropped by the pool and
    // replaced on next use; without a listener its 'error' would crash the process.
    pool.on("error", (error) => options.onIdleError?.(error));
    const db = drizzlePg(pool);
    return {
      db,
      kind: "postgres",
      migrate: (m) => migratePg(db, m),
      ping: async () => void (await db.execute(sql`select 1`)),
      close: () => pool.end(),
    };
  }
  mkdirSync(options.dataDir, { recursive: true });
  const client = await PGlite.create(options.dataDir);
  const db = drizzlePglite(client);
  return {
    db,
    kind: "pglite",
    migrate: (m) => migratePglite(db, m),
    ping: async () => void (await db.execute(sql`select 1`)),
    close: () => client.close(),
  };
}
