import { fileURLToPath } from "node:url";
import type { DatabaseHandle } from "@callmesh/platform/database.js";
import type { EventLog } from "@callmesh/platform/event-log/event-log.js";
import { withOpsRoutes } from "@callmesh/platform/http/ops-routes.js";
import { serve } from "@callmesh/platform/http/serve.js";
import { runAsEntryPoint } from "@callmesh/platform/lifecycle.js";
import { createLogger, type Logger } from "@callmesh/platform/logging.js";
import { createMetricsRegistry } from "@callmesh/platform/metrics.js";
import { openServerBackends } from "@callmesh/platform/server-backends.js";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import { type GatewayConfig, parseGatewayConfig } from "./config.js";
import { createAgentHub } from "./domain/agent-hub.js";
import { createCallControl } from "./domain/call-control.js";
import { createCallIndex } from "./domain/call-index.js";
import { createClickToCall } from "./domain/click-to-call.js";
import { createFleetHealth } from "./domain/fleet-health.js";
import { createPresence } from "./domain/presence.js";
import { createPresenceFanout } from "./domain/presence-fanout.js";
import { createTenantDirectory, type TenantDirectory } from "./domain/tenant-directory.js";
import { createUsers } from "./domain/users.js";
import { createRoutes } from "./routes.js";
import { createAgentFleetService } from "./rpc/agent-fleet-service.js";
import { createAgentService } from "./rpc/agent-service.js";
import { createCallService } from "./rpc/call-service.js";
import { createCdrServiceProxy } from "./rpc/cdr-service-proxy.js";
import { createPresenceService } from "./rpc/presence-service.js";
import { createUserService } from "./rpc/user-service.js";

const migrationsFolder = fileURLToPath(new URL("../migrations", import.meta.url));

export interface RunningGateway {
  readonly port: number;
  readonly directory: TenantDirectory;
  /** Stops listening; open streams get `graceMs` to end. */
  stop(graceMs?: number): Promise<void>;
}

/** Composition root of the gateway: wires the adapters it is given into the API and listens. */
export async function startGateway(
  config: GatewayConfig,
  deps: { database: DatabaseHandle; eventLog: EventLog; logger?: Logger },
): Promise<RunningGateway> {
  const logger = deps.logger ?? createLogger("gateway");
  await deps.database.migrate({ migrationsFolder, migrationsTable: "__gateway_migrations" });
  const metrics = createMetricsRegistry("gateway");
  const directory = createTenantDirectory(deps.database.db);
  const users = createUsers(deps.database.db);
  const hub = createAgentHub({ commandTimeoutMs: config.CALLMESH_COMMAND_TIMEOUT_MS });
  const shutdown = new AbortController();
  const calls = createCallIndex();
  const fanout = createPresenceFanout({ queueLimit: config.CALLMESH_PRESENCE_QUEUE_LIMIT, metrics });
  const fleet = createFleetHealth({
    directory,
    eventLog: deps.eventLog,
    logger,
    metrics,
    offlineMs: config.CALLMESH_AGENT_OFFLINE_MS,
    shutdownSignal: shutdown.signal,
  });

  const routes = createRoutes({
    logger,
    directory,
    users,
    agentService: createAgentService({
      directory,
      hub,
      calls,
      presence: fanout,
      fleet,
      eventLog: deps.eventLog,
      logger,
      metrics,
    }),
    callService: createCallService({
      directory,
      clickToCall: createClickToCall({ hub, directory }),
      calls: createCallControl({ hub, calls }),
    }),
    presenceService: createPresenceService({ directory, presence: createPresence({ hub, fanout }) }),
    agentFleetService: createAgentFleetService({ directory, fleet }),
    userService: createUserService({ directory, users }),
    cdrService: createCdrServiceProxy({
      directory,
      transport: createGrpcTransport({ baseUrl: config.CDR_SERVICE_URL }),
    }),
  });
  const api = connectNodeAdapter({ routes, shutdownSignal: shutdown.signal });
  const server = await serve({
    host: config.CALLMESH_HOST,
    port: config.CALLMESH_PORT,
    handler: withOpsRoutes(api, {
      registry: metrics,
      ready: () => deps.database.ping().then(() => true),
    }),
  });
  logger.info({ port: server.port }, "gateway listening");

  return {
    port: server.port,
    directory,
    async stop(graceMs) {
      shutdown.abort();
      await server.close(graceMs);
      await fleet.stop();
      logger.info("gateway stopped");
    },
  };
}

const entryLogger = createLogger("gateway");
runAsEntryPoint(import.meta.url, entryLogger, async () => {
  const config = parseGatewayConfig();
  const { database, eventLog } = await openServerBackends("gateway", config.DATABASE_URL, entryLogger);
  const gateway = await startGateway(config, { database, eventLog });
  return async () => {
    await gateway.stop();
    await eventLog.close();
    await database.close();
  };
});
