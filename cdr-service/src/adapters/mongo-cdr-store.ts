import type { Logger } from "@callmesh/platform/logging.js";
import {
  BSON,
  type Collection,
  type Filter,
  MongoBulkWriteError,
  MongoClient,
  type MongoClientOptions,
  ReadPreference,
  type ReadPreferenceMode,
} from "mongodb";
import type { CdrQuery, CdrStore, CdrStoreHandle } from "../ports/cdr-store.js";
import { type CdrDocument, cdrDocumentId, fromCdrDocument, toCdrDocument } from "./mongo-cdr-document.js";

export const cdrCollectionName = "cdrs";

/**
 * The indexes the queries need, each ordered equality → sort → range. Created at start; a
 * same-named index with other keys fails the start rather than being replaced silently.
 */
export const cdrIndexes = [
  { name: "tenant_started", key: { tenantId: 1, startedAt: -1, id: -1 } },
  { name: "tenant_extension_started", key: { tenantId: 1, extensions: 1, startedAt: -1, id: -1 } },
  { name: "tenant_direction_started", key: { tenantId: 1, direction: 1, startedAt: -1, id: -1 } },
] as const;

/**
 * How a batch is written. `bulk-upsert`: one unordered bulk write of replace-upserts by _id
 * (MongoDB). `insert-first`: an unordered insert, then replace-upserts of the CDRs the server
 * already held (FerretDB 1.x, whose upserts scan the whole collection: docs/mongodb.md), skipping those
 * whose stored copy is already the same bytes.
 */
export type UpsertMode = "bulk-upsert" | "insert-first";

export interface MongoCdrStoreOptions {
  /** A MongoDB connection string; its path names the auth database only, never the CDRs'. */
  url: string;
  /** Database holding the `cdrs` collection. Default "callmesh". */
  database?: string;
  /** Where get and list read. Default secondaryPreferred: production is 1 primary + 2 secondaries. */
  readPreference?: ReadPreferenceMode;
  logger: Logger;
  /** Default: insert-first on FerretDB, bulk-upsert on anything else. */
  upsertMode?: UpsertMode;
  /**
   * Extra driver options (TLS files, pool sizes, driver log capture in tests). The store's
   * write concern and read preference are set on its collection and win over these.
   */
  clientOptions?: MongoClientOptions;
}

/** How long /readyz waits for MongoDB before calling the store not ready. */
const pingTimeoutMs = 2000;

/**
 * FerretDB 1.24 on SQLite keeps a pooled connection per update statement that matched a
 * document until the command ends, and its pool holds 100: an update of 100 existing
 * documents waits forever. So it gets at most this many statements per command.
 */
const ferretDbStatementsPerCommand = 50;

/**
 * The CDR store on MongoDB: one document per (tenant, CDR id), written with unordered bulk
 * upserts acknowledged by a majority of the replica set, read with a configurable read
 * preference. Connects and creates its indexes before it resolves.
 */
export async function createMongoCdrStore(options: MongoCdrStoreOptions): Promise<CdrStoreHandle> {
  const readPreference = new ReadPreference(options.readPreference ?? ReadPreference.SECONDARY_PREFERRED);
  const databaseName = options.database ?? "callmesh";
  const logger = options.logger.child({ store: "mongodb", database: databaseName });
  const client = new MongoClient(options.url, { appName: "callmesh-cdr-service", ...options.clientOptions });
  await client.connect();
  try {
    const db = client.db(databaseName);
    // A majority write survives the loss of the primary; the wait is bounded so that a
    // replica set without a majority fails the batch (the ingest retries it) instead of hanging.
    const collection = db.collection<CdrDocument>(cdrCollectionName, {
      writeConcern: { w: "majority", wtimeoutMS: 10_000 },
      readPreference,
    });
    // One index per command: FerretDB 1.24 drops the connection (a panic) when one
    // createIndexes names two indexes that already exist. Same result on MongoDB.
    for (const { name, key } of cdrIndexes) await collection.createIndex({ ...key }, { name });

    const admin = db.admin();
    const [hello, build] = await Promise.all([admin.command({ hello: 1 }), admin.command({ buildInfo: 1 })]);
    const ferretDb = typeof build.ferretdbVersion === "string" ? build.ferretdbVersion : undefined;
    const upsertMode = options.upsertMode ?? (ferretDb ? "insert-first" : "bulk-upsert");
    const statementsPerCommand = ferretDb ? ferretDbStatementsPerCommand : Number.POSITIVE_INFINITY;
    if (!hello.setName && hello.msg !== "isdbgrid") {
      logger.warn("MongoDB is not a replica set: majority means this one server, and there are no secondaries to read");
    }
    logger.info(
      { server: build.version, ferretDb, readPreference: readPreference.mode, upsertMode },
      "MongoDB CDR store ready",
    );

    const bulkUpsert = (documents: readonly CdrDocument[]) =>
      inChunks(documents, statementsPerCommand, (chunk) =>
        collection.bulkWrite(
          chunk.map((document) => ({
            replaceOne: { filter: { _id: document._id }, replacement: document, upsert: true },
          })),
          { ordered: false },
        ),
      );

    const store: CdrStore = {
      async upsert(records) {
        if (records.length === 0) return;
        // Last write wins within a batch too: an unordered bulk write may apply its
        // operations in any order, so the batch holds one per CDR.
        const documents = [...new Map(records.map((cdr) => [cdrDocumentId(cdr.tenantId, cdr.id), cdr])).values()].map(
          toCdrDocument,
        );
        if (upsertMode === "bulk-upsert") return bulkUpsert(documents);
        await bulkUpsert(await changedOnly(collection, await insertNew(collection, documents)));
      },

      async list(query: CdrQuery) {
        const filter: Filter<CdrDocument> = { tenantId: query.tenantId };
        const startedAt: { $gte?: Date; $lt?: Date; $lte?: Date } = {};
        if (query.startedFrom !== undefined) startedAt.$gte = new Date(query.startedFrom);
        if (query.startedBefore !== undefined) startedAt.$lt = new Date(query.startedBefore);
        if (query.direction) filter.direction = query.direction;
        if (query.extension) filter.extensions = query.extension;
        if (query.after) {
          const cursorAt = new Date(query.after.startedAtMs);
          // $lte bounds the index scan at the cursor; $or then skips the rows at or above it.
          startedAt.$lte = cursorAt;
          filter.$or = [{ startedAt: { $lt: cursorAt } }, { startedAt: cursorAt, id: { $lt: query.after.id } }];
        }
        if (Object.keys(startedAt).length > 0) filter.startedAt = startedAt;
        const documents = await collection
          .find(filter, { projection: { _id: 0, id: 1, startedAt: 1, cdr: 1, variables: 1 } })
          .sort({ startedAt: -1, id: -1 })
          .limit(query.limit + 1)
          .toArray();
        const page = documents.slice(0, query.limit);
        const last = page[page.length - 1];
        return {
          cdrs: page.map(fromCdrDocument),
          next:
            documents.length > query.limit && last ? { startedAtMs: last.startedAt.getTime(), id: last.id } : undefined,
        };
      },

      async get(tenantId, id) {
        const document = await collection.findOne(
          { _id: cdrDocumentId(tenantId, id) },
          { projection: { _id: 0, cdr: 1, variables: 1 } },
        );
        return document ? fromCdrDocument(document) : undefined;
      },
    };

    return {
      store,
      async ping() {
        // Ready when a member we may read from answers: queries are what this store serves
        // without the primary; writes during an election fail and the ingest retries them.
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), pingTimeoutMs);
        });
        const answered = db.command({ ping: 1 }, { readPreference }).then(
          () => true,
          () => false,
        );
        try {
          return await Promise.race([answered, timeout]);
        } finally {
          clearTimeout(timer);
        }
      },
      close: () => client.close(),
    };
  } catch (error) {
    await client.close();
    throw error;
  }
}

/** Inserts the documents the server lacks (unordered); answers those it already held. */
async function insertNew(collection: Collection<CdrDocument>, documents: CdrDocument[]): Promise<CdrDocument[]> {
  try {
    await collection.insertMany(documents, { ordered: false });
    return [];
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError) || error.result.getWriteConcernError()) throw error;
    const failed = [error.writeErrors].flat();
    const duplicateKey = 11000;
    if (failed.length === 0 || failed.some((writeError) => writeError.code !== duplicateKey)) throw error;
    return failed.flatMap((writeError) => documents[writeError.index] ?? []);
  }
}

/**
 * The held documents whose stored copy differs. A redelivered CDR is almost always the same
 * bytes again; on FerretDB one `$in` read (one table scan) is far cheaper than a replace per
 * document (a scan each), and skipping an identical replace changes nothing.
 */
async function changedOnly(collection: Collection<CdrDocument>, held: CdrDocument[]): Promise<CdrDocument[]> {
  if (held.length === 0) return held;
  const stored = new Map<string, Buffer>();
  for await (const document of collection.find({ _id: { $in: held.map((document) => document._id) } })) {
    stored.set(document._id, Buffer.from(BSON.serialize(document)));
  }
  return held.filter((document) => !stored.get(document._id)?.equals(BSON.serialize(document)));
}

async function inChunks<T>(items: readonly T[], size: number, write: (chunk: T[]) => Promise<unknown>) {
  for (let start = 0; start < items.length; start += size) await write(items.slice(start, start + size));
}
