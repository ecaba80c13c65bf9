import { CdrService } from "@callmesh/gen/callmesh/crm/v1/cdr_service_pb.js";
import type { DatabaseHandle } from "@callmesh/platform/database.js";
import type { EventLog } from "@callmesh/platform/event-log/event-log.js";
import { withOpsRoutes } from "@callmesh/platform/http/ops-routes.js";
import { serve } from "@callmesh/platform/http/serve.js";
import { runAsEntryPoint } from "@callmesh/platform/lifecycle.js";
import { createLogger, type Logger } from "@callmesh/platform/logging.js";
import { createMetricsRegistry } from "@callmesh/platform/metrics.js";
import { openServerBackends } from "@callmesh/platform/server-backends.js";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createValidateInterceptor } from "@connectrpc/validate";
import { openCdrStore } from "./adapters/open-cdr-store.js";
import { type CdrServiceConfig, parseCdrServiceConfig } from "./config.js";
import { runCdrIngest } from "./domain/cdr-ingest.js";
import type { CdrStoreHandle } from "./ports/cdr-store.js";
import { createCdrService } from "./rpc/cdr-service.js";

export interface RunningCdrService {
  readonly port: number;
  stop(): Promise<void>;
}

/** Composition root of cdr-service: the ingest loop (event log → store) and the CdrService API. */
export async function startCdrService(
  config: CdrServiceConfig,
  deps: { database: DatabaseHandle; eventLog: EventLog; logger?: Logger },
): Promise<RunningCdrService> {
  const logger = deps.logger ?? createLogger("cdr-service");
  const metrics = createMetricsRegistry("cdr-service");
  const cdrStore = await openCdrStore(config, deps.database, logger);
  const { store } = cdrStore;
  const stopping = new AbortController();

  const ingest = runCdrIngest({ eventLog: deps.eventLog, store, logger, metrics, signal: stopping.signal });
  const api = connectNodeAdapter({
    routes: (router) =>
      router.service(CdrService, createCdrService({ store }), { interceptors: [createValidateInterceptor()] }),
    shutdownSignal: stopping.signal,
  });
  const server = await serve({
    host: config.CDR_SERVICE_HOST,
    port: config.CDR_SERVICE_PORT,
    handler: withOpsRoutes(api, { registry: metrics, ready: () => isReady(deps.database, cdrStore) }),
  });
  logger.info({ port: server.port }, "cdr-service listening");

  return {
    port: server.port,
    async stop() {
      stopping.abort();
      await Promise.all([server.close(), ingest]);
      await cdrStore.close();
      logger.info("cdr-service stopped");
    },
  };
}

/** Ready when the database (event log, PGlite CDRs) and the CDR store both answer. */
async function isReady(database: DatabaseHandle, cdrStore: CdrStoreHandle): Promise<boolean> {
  const [databaseUp, storeUp] = await Promise.all([
    database.ping().then(
      () => true,
      () => false,
    ),
    cdrStore.ping(),
  ]);
  return databaseUp && storeUp;
}

const entryLogger = createLogger("cdr-service");
runAsEntryPoint(import.meta.url, entryLogger, async () => {
  const config = parseCdrServiceConfig();
  const { database, eventLog } = await openServerBackends("cdr-service", config.DATABASE_URL, entryLogger);
  const service = await startCdrService(config, { database, eventLog });
  return async () => {
    await service.stop();
    await eventLog.close();
    await database.close();
  };
});
