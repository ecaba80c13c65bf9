import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { openDatabase } from "../database.js";
import { describeEventLogContract } from "./event-log.contract.js";
import { Topic } from "./event-log.js";
import { createPostgresEventLog } from "./postgres-event-log.js";

async function openPglite() {
  const dir = mkdtempSync(join(tmpdir(), "event-log-"));
  const database = await openDatabase({ dataDir: dir });
  const log = await createPostgresEventLog(database, { pollIntervalMs: 50 });
  return {
    log,
    database,
    async close() {
      await log.close();
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeEventLogContract("PostgreSQL table on PGlite", openPglite);

if (process.env.DATABASE_URL) {
  const url = process.env.DATABASE_URL;
  describeEventLogContract("PostgreSQL table on PostgreSQL", async () => {
    const database = await openDatabase({ url, dataDir: "" });
    const log = await createPostgresEventLog(database, { pollIntervalMs: 50 });
    return { log, close: () => database.close() };
  });
}

it("ignores a record id it already holds (the table log can tell)", async () => {
  const { log, close } = await openPglite();
  try {
    const rec = { topic: Topic.cdrs, key: "k", id: "same", value: new Uint8Array([1]) };
    await log.append([rec]);
    await log.append([rec]);
    const seen: string[] = [];
    await log.consume({
      group: "g",
      topic: Topic.cdrs,
      signal: AbortSignal.timeout(500),
      async handle(batch) {
        seen.push(...batch.map((r) => r.id));
      },
    });
    assert.deepEqual(seen, ["same"]);
  } finally {
    await close();
  }
});
