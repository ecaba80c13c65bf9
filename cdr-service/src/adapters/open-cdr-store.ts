import type { DatabaseHandle } from "@callmesh/platform/database.js";
import type { Logger } from "@callmesh/platform/logging.js";
import type { CdrServiceConfig } from "../config.js";
import type { CdrStoreHandle } from "../ports/cdr-store.js";
import { createMongoCdrStore } from "./mongo-cdr-store.js";
import { createPostgresCdrStore } from "./postgres-cdr-store.js";

/**
 * Picks the CDR store: MongoDB when MONGODB_URL is set, else the `cdrs` table in `database`
 * (PostgreSQL or embedded PGlite), which the caller owns and closes.
 */
export async function openCdrStore(
  config: Pick<CdrServiceConfig, "MONGODB_URL" | "MONGODB_DATABASE" | "MONGODB_READ_PREFERENCE">,
  database: DatabaseHandle,
  logger: Logger,
): Promise<CdrStoreHandle> {
  if (config.MONGODB_URL) {
    return createMongoCdrStore({
      url: config.MONGODB_URL,
      database: config.MONGODB_DATABASE,
      readPreference: config.MONGODB_READ_PREFERENCE,
      logger,
    });
  }
  const store = await createPostgresCdrStore(database);
  return {
    store,
    ping: () =>
      database.ping().then(
        () => true,
        () => false,
      ),
    close: async () => {},
  };
}
