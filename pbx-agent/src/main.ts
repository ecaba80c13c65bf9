import { create } from "@bufbuild/protobuf";
import { HelloSchema, ListCallsSchema } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { AgentEventKind } from "@callmesh/gen/callmesh/events/v1/agent_event_pb.js";
import { withOpsRoutes } from "@callmesh/platform/http/ops-routes.js";
import { serve } from "@callmesh/platform/http/serve.js";
import { runAsEntryPoint } from "@callmesh/platform/lifecycle.js";
import { createLogger, type Logger } from "@callmesh/platform/logging.js";
import { createMetricsRegistry } from "@callmesh/platform/metrics.js";
import { createCommandRunner } from "./command-runner.js";
import { type AgentConfig, parseAgentConfig } from "./config.js";
import { createGatewayLink } from "./gateway-link.js";
import { createAgentHeartbeat } from "./health/agent-heartbeat.js";
import { createPbxDriver } from "./pbx-driver-factory.js";
import { openDiskSpool } from "./spool/disk-spool.js";
import { monitorSpool } from "./spool/spool-monitor.js";
import { agentVersion } from "./version.js";

export interface RunningAgent {
  /** Port of /healthz, /readyz and /metrics. */
  readonly opsPort: number;
  stop(): Promise<void>;
}

/**
 * Composition root of the agent: PBX driver → disk spool → gateway link, gateway
 * commands → driver actions, health in heartbeats, notices of the spool's and the PBX
 * connection's state, and the ops endpoints.
 */
export async function startAgent(config: AgentConfig, deps: { logger?: Logger } = {}): Promise<RunningAgent> {
  const logger = (deps.logger ?? createLogger("pbx-agent")).child({ agentId: config.CALLMESH_AGENT_ID });
  const metrics = createMetricsRegistry("pbx-agent");
  const spool = openDiskSpool(config.CALLMESH_SPOOL_DIR, {
    limitBytes: config.CALLMESH_SPOOL_LIMIT_BYTES,
    alertPercent: config.CALLMESH_SPOOL_ALERT_PERCENT,
    overflowItems: config.CALLMESH_SPOOL_OVERFLOW_ITEMS,
  });
  const driver = createPbxDriver(config, { logger, metrics });
  // An item the spool cannot write is held or counted as lost by the spool monitor, never dropped unseen.
  driver.onOutput((output) => {
    spool.append(output.kind === "event" ? { case: "event", value: output.event } : { case: "cdr", value: output.cdr });
  });
  driver.onPresence((presence) => {
    spool.append({ case: "presence", value: presence });
  });

  const link = createGatewayLink({
    gatewayUrl: config.CALLMESH_GATEWAY_URL,
    token: config.CALLMESH_AGENT_TOKEN,
    spool,
    logger,
    heartbeatMs: config.CALLMESH_HEARTBEAT_MS,
    metrics,
    heartbeat: createAgentHeartbeat({
      spool,
      spoolDir: config.CALLMESH_SPOOL_DIR,
      recordingDir: config.CALLMESH_RECORDING_DIR,
      pbx: driver,
      agentVersion,
      // The calls the driver tracks (no PBX round trip); a driver that cannot list them (ESL for now) gives 0.
      activeCalls: async () => {
        const outcome = await driver.control({ case: "listCalls", value: create(ListCallsSchema) });
        return outcome.detail?.case === "calls" ? outcome.detail.value.calls.length : 0;
      },
      logger,
    }),
    runCommand: createCommandRunner(driver),
    hello: () =>
      create(HelloSchema, {
        agentId: config.CALLMESH_AGENT_ID,
        pbxKind: driver.kind,
        pbxVersion: driver.pbxVersion,
        agentVersion,
        pbxConnected: driver.connected,
      }),
  });
  monitorSpool(spool, { logger, metrics, notify: (notice) => link.notify(notice) });
  driver.onConnectionChange((connected) => {
    const where =
      config.PBX_KIND === "asterisk"
        ? `AMI ${config.AMI_HOST}:${config.AMI_PORT}`
        : `ESL ${config.ESL_HOST}:${config.ESL_PORT}`;
    const message = connected ? `PBX connected (${where})` : `PBX disconnected (${where}); reconnecting`;
    if (connected) logger.info({ connected }, message);
    else logger.warn({ connected }, message);
    link.notify({ kind: connected ? AgentEventKind.PBX_CONNECTED : AgentEventKind.PBX_DISCONNECTED, message });
  });

  // Ready when the agent can do its job: logged in to the PBX and streaming to the gateway.
  const ops = await serve({
    host: config.CALLMESH_AGENT_OPS_HOST,
    port: config.CALLMESH_AGENT_OPS_PORT,
    handler: withOpsRoutes(notFound, { registry: metrics, ready: async () => driver.connected && link.connected }),
  });
  driver.start();
  link.start();
  logger.info(
    {
      gateway: config.CALLMESH_GATEWAY_URL,
      pbx: config.PBX_KIND,
      spoolDepth: spool.depth,
      spoolBytes: spool.stats().bytes,
      spoolLimitBytes: spool.stats().limitBytes,
      opsPort: ops.port,
    },
    "agent started",
  );

  return {
    opsPort: ops.port,
    async stop() {
      await Promise.all([driver.stop(), link.stop(), ops.close(1000)]);
      const lost = spool.close();
      if (lost > 0) logger.error({ lost }, "items held in memory (the spool could not write them) are lost at stop");
      logger.info("agent stopped");
    },
  };
}

const notFound = (_req: unknown, res: { writeHead(status: number): void; end(body: string): void }) => {
  res.writeHead(404);
  res.end("not found\n");
};

runAsEntryPoint(import.meta.url, createLogger("pbx-agent"), async () => {
  const agent = await startAgent(parseAgentConfig());
  return () => agent.stop();
});
