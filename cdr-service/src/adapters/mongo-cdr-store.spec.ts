import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { CallDirection } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import { CdrSchema } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import { createLogger } from "@callmesh/platform/logging.js";
import { MongoClient, type ReadPreferenceMode } from "mongodb";
import { describeCdrStoreContract } from "../ports/cdr-store.contract.js";
import type { CdrStoreHandle } from "../ports/cdr-store.js";
import { type CdrDocument, cdrDocumentId } from "./mongo-cdr-document.js";
import { cdrCollectionName, cdrIndexes, createMongoCdrStore, type UpsertMode } from "./mongo-cdr-store.js";

const url = process.env.MONGODB_URL;
const logger = createLogger("test", process.env.CALLMESH_LOG_LEVEL ?? "silent");
/** A database of this run's own (FerretDB allows latin letters, digits and '_'), dropped at the end. */
/** The fields of a command, as the driver logged it, that the specs look at. */
interface SentCommand {
  ordered?: boolean;
  writeConcern?: unknown;
  documents?: unknown[];
  updates?: { q: { _id: string }; upsert?: boolean }[];
  $readPreference?: unknown;
}
const newDatabaseName = () => `cdr_contract_${randomBytes(6).toString("hex")}`;

async function dropDatabase(name: string) {
  if (!url) return;
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.db(name).dropDatabase();
  } finally {
    await client.close();
  }
}

if (!url) {
  describe("MongoDB CDR store", () => {
    it("needs a MongoDB-wire server", () => {
      assert.fail(
        "MONGODB_URL is not set. Start the test servers with `npm run servers:start` and run this spec as " +
          "`env $(npm run -s servers:env) node --import tsx --test <file>`, or run `npm test`, which starts them.",
      );
    });
  });
} else {
  const contract = (name: string, upsertMode?: UpsertMode, largeBatch?: number) =>
    describeCdrStoreContract(
      name,
      async () => {
        const database = newDatabaseName();
        const opened = await createMongoCdrStore({
          url,
          database,
          logger,
          upsertMode,
          clientOptions: { serverSelectionTimeoutMS: 5000 },
        });
        return {
          store: opened.store,
          async close() {
            await opened.close();
            await dropDatabase(database);
          },
        };
      },
      { largeBatch },
    );
  contract("MongoDB (MONGODB_URL), the write path the server gets by default");
  // On FerretDB the default is insert-first; the bulk upserts MongoDB gets must hold there
  // too. Each of them scans the collection there (docs/mongodb.md): a smaller large batch.
  contract("MongoDB (MONGODB_URL), bulk upserts", "bulk-upsert", 500);

  describe("MongoDB CDR store: what the contract cannot see", { timeout: 60_000 }, () => {
    const database = newDatabaseName();
    const opened: CdrStoreHandle[] = [];
    let client: MongoClient;
    /** A store whose driver logs every command it sends into `commands`. */
    async function openRecorded(options: { upsertMode?: UpsertMode; readPreference?: ReadPreferenceMode } = {}) {
      const commands: Record<string, unknown>[] = [];
      const handle = await createMongoCdrStore({
        url: url as string,
        database,
        logger,
        ...options,
        clientOptions: {
          serverSelectionTimeoutMS: 5000,
          mongodbLogComponentSeverities: { command: "debug" },
          mongodbLogMaxDocumentLength: 100_000,
          mongodbLogPath: { write: (log) => void commands.push(log as unknown as Record<string, unknown>) },
        },
      });
      opened.push(handle);
      /** The commands sent since the last call, as the server got them. */
      const sent = () =>
        commands
          .splice(0)
          .filter((log) => log.message === "Command started")
          .map((log) => ({
            name: String(log.commandName),
            body: JSON.parse(String(log.command)) as SentCommand,
          }));
      return { ...handle, sent };
    }
    const writes = (commands: { name: string; body: SentCommand }[]) =>
      commands.filter((c) => c.name === "insert" || c.name === "update");
    const cdrsOf = (tenantId: string, ...ids: string[]) =>
      ids.map((id) => create(CdrSchema, { id, callId: id, tenantId }));

    before(async () => {
      client = await new MongoClient(url, { serverSelectionTimeoutMS: 5000 }).connect();
    });
    after(async () => {
      for (const handle of opened) await handle.close();
      await client?.close();
      await dropDatabase(database);
    });

    it("creates the indexes the queries need, and leaves them be when started again", async () => {
      await openRecorded();
      await openRecorded();
      const indexes = await client.db(database).collection(cdrCollectionName).listIndexes().toArray();
      for (const expected of cdrIndexes) {
        const index = indexes.find((i) => i.name === expected.name);
        assert.ok(index, `index ${expected.name}`);
        assert.deepEqual(index.key, expected.key);
      }
      assert.equal(indexes.length, cdrIndexes.length + 1, "ours and _id's");
    });

    it("bulk-upsert: one unordered update of replace-upserts by _id, write concern majority", async () => {
      const store = await openRecorded({ upsertMode: "bulk-upsert" });
      const cdrs = cdrsOf("bulk", "a", "b", "c");
      store.sent();
      await store.store.upsert(cdrs);
      const updates = writes(store.sent());
      assert.equal(updates.length, 1, "one command for the batch");
      assert.equal(updates[0]?.name, "update");
      const update = updates[0]?.body;
      assert.equal(update?.ordered, false);
      assert.deepEqual(update?.writeConcern, { w: "majority", wtimeout: 10_000 });
      assert.deepEqual(
        update?.updates?.map((s) => [s.q, s.upsert]),
        cdrs.map((c) => [{ _id: cdrDocumentId(c.tenantId, c.id) }, true]),
      );
    });

    it("insert-first: an unordered insert, then upserts of only the CDRs already held", async () => {
      const store = await openRecorded({ upsertMode: "insert-first" });
      await store.store.upsert(cdrsOf("first", "a", "b"));
      assert.deepEqual(
        writes(store.sent()).map((c) => c.name),
        ["insert"],
      );
      const batch = cdrsOf("first", "b", "c", "a").map((c) => Object.assign(c, { answeredBy: "1001" }));
      await store.store.upsert(batch);
      const [insert, update, ...more] = writes(store.sent());
      assert.equal(insert?.name, "insert");
      assert.equal(insert.body.ordered, false);
      assert.deepEqual(insert.body.writeConcern, { w: "majority", wtimeout: 10_000 });
      assert.equal(insert.body.documents?.length, 3);
      assert.equal(update?.name, "update");
      assert.equal(update.body.ordered, false);
      assert.deepEqual(update.body.writeConcern, { w: "majority", wtimeout: 10_000 });
      assert.deepEqual(
        update.body.updates?.map((u) => u.q._id),
        ["first/b", "first/a"],
      );
      assert.deepEqual(more, []);
      for (const cdr of batch) assert.equal((await store.store.get("first", cdr.id))?.answeredBy, "1001");
      const held = await client.db(database).collection(cdrCollectionName).countDocuments({ tenantId: "first" });
      assert.equal(held, 3);
    });

    it("insert-first: a redelivered batch replaces only the CDRs that changed", async () => {
      const store = await openRecorded({ upsertMode: "insert-first" });
      const batch = cdrsOf("again", "a", "b", "c");
      await store.store.upsert(batch);
      store.sent();
      await store.store.upsert(batch);
      assert.deepEqual(
        writes(store.sent()).map((c) => c.name),
        ["insert"],
        "the same bytes again: nothing to replace",
      );
      const changed = cdrsOf("again", "a", "b", "c");
      Object.assign(changed[1] ?? {}, { answeredBy: "1002" });
      await store.store.upsert(changed);
      const update = writes(store.sent()).find((c) => c.name === "update");
      assert.deepEqual(
        update?.body.updates?.map((u) => u.q._id),
        ["again/b"],
      );
      assert.equal((await store.store.get("again", "b"))?.answeredBy, "1002");
    });

    it("reads with the configured read preference", async () => {
      const nearest = await openRecorded({ readPreference: "nearest" });
      assert.equal(await nearest.ping(), true);
      const store = await openRecorded();
      store.sent();
      await store.store.list({ tenantId: "t", limit: 1 });
      const find = store.sent().find((c) => c.name === "find")?.body;
      assert.ok(find, "a find was sent");
      // A standalone (FerretDB) gets no $readPreference from the driver; a replica set member does.
      const hello = await client.db("admin").command({ hello: 1 });
      if (hello.setName) assert.deepEqual(find.$readPreference, { mode: "secondaryPreferred" });
    });

    it("stores a document useful to ops: query fields, the protobuf JSON, variables as k/v", async () => {
      const store = await openRecorded();
      const started = Date.UTC(2025, 0, 15, 9, 0, 0, 123);
      await store.store.upsert([
        create(CdrSchema, {
          id: "call-doc",
          callId: "call-doc",
          tenantId: "dev",
          direction: CallDirection.INBOUND,
          fromNumber: "+35799000001",
          answeredBy: "1001",
          rungExtensions: ["1001", "1002"],
          startedAt: timestampFromMs(started),
          variables: { CRM_ID: "abc123" },
        }),
      ]);
      const document = await client
        .db(database)
        .collection<CdrDocument>(cdrCollectionName)
        .findOne({ _id: "dev/call-doc" });
      assert.ok(document);
      assert.equal(document.tenantId, "dev");
      assert.equal(document.callId, "call-doc");
      assert.ok(document.startedAt instanceof Date);
      assert.equal(document.startedAt.getTime(), started);
      assert.equal(document.direction, CallDirection.INBOUND);
      assert.deepEqual([...document.extensions].sort(), ["+35799000001", "1001", "1002"]);
      assert.deepEqual(document.variables, [{ k: "CRM_ID", v: "abc123" }]);
      assert.equal(document.cdr.direction, "CALL_DIRECTION_INBOUND");
      assert.equal(document.cdr.startedAt, "2025-01-15T09:00:00.123Z");
      assert.equal(document.cdr.variables, undefined);
    });

    it("answers ping true while the server is up", async () => {
      const store = await openRecorded();
      assert.equal(await store.ping(), true);
    });
  });
}
