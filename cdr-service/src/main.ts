import { pathToFileURL } from "node:url";
import { CdrService } from "@callmesh/gen/callmesh/crm/v1/cdr_service_pb.js";
import { type DatabaseHandle, openDatabase } from "@callmesh/platform/database.js";
import type { EventLog } from "@callmesh/platform/event-log/event-log.js";
import { openEventLog } from "@callmesh/platform/event-log/open-event-log.js";
import { withOpsRoutes } from "@callmesh/platform/http/ops-routes.js";
import { serve } from "@callmesh/platform/http/serve.js";
import { stopOnSignals } from "@callmesh/platform/lifecycle.js";
import { createLogger, type Logger } from "@callmesh/platform/logging.js";
import { createMetricsRegistry } from "@callmesh/platform/metrics.js";
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

async function main() {
  const config = parseCdrServiceConfig();
  if (!config.DATABASE_URL) {
    throw new Error(
      "cdr-service alone needs DATABASE_URL (PostgreSQL): on embedded PGlite it shares one process with the gateway, so run `npm start`",
    );
  }
  const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.CALLMESH_DATA_DIR });
  const service = await startCdrService(config, { database, eventLog: await openEventLog(database) });
  stopOnSignals(createLogger("cdr-service"), async () => {
    await service.stop();
    await database.close();
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((error: unknown) => {
    process.stderr.write(`cdr-service: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
