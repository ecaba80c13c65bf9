import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "@callmesh/platform/database.js";
import { sql } from "drizzle-orm";
import { describeCdrStoreContract } from "../ports/cdr-store.contract.js";
import { createPostgresCdrStore } from "./postgres-cdr-store.js";

describeCdrStoreContract("PostgreSQL on PGlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cdr-store-pglite-"));
  const database = await openDatabase({ dataDir: dir });
  return {
    store: await createPostgresCdrStore(database),
    async close() {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

// A real server too when one is named: a database of this run's own, dropped at the end.
const serverUrl = process.env.DATABASE_URL;
if (serverUrl) {
  describeCdrStoreContract("PostgreSQL server (DATABASE_URL)", async () => {
    const name = `cdr_contract_${randomBytes(6).toString("hex")}`;
    const admin = await openDatabase({ url: serverUrl, dataDir: "" });
    await admin.db.execute(sql.raw(`create database ${name}`));
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const database = await openDatabase({ url: url.href, dataDir: "" });
    return {
      store: await createPostgresCdrStore(database),
      async close() {
        await database.close();
        await admin.db.execute(sql.raw(`drop database if exists ${name} with (force)`));
        await admin.close();
      },
    };
  });
}
