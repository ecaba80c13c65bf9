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
import { createPostgresCdrStore } from "./adapters/postgres-cdr-store.js";
import { type CdrServiceConfig, parseCdrServiceConfig } from "./config.js";
import { runCdrIngest } from "./domain/cdr-ingest.js";
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
  const store = await createPostgresCdrStore(deps.database);
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
    handler: withOpsRoutes(api, { registry: metrics, ready: () => deps.database.ping().then(() => true) }),
  });
  logger.info({ port: server.port }, "cdr-service listening");

  return {
    port: server.port,
    async stop() {
      stopping.abort();
      await Promise.all([server.close(), ingest]);
      logger.info("cdr-service stopped");
    },
  };
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
