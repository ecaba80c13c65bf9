import { create } from "@bufbuild/protobuf";
import { type Command, CommandStatus, HelloSchema } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { runAsEntryPoint } from "@callmesh/platform/lifecycle.js";
import { createLogger, type Logger } from "@callmesh/platform/logging.js";
import { type AgentConfig, parseAgentConfig } from "./config.js";
import { createAmiDriver } from "./drivers/ami/ami-driver.js";
import { createGatewayLink } from "./gateway-link.js";
import type { CommandOutcome } from "./ports/pbx-driver.js";
import { openDiskSpool } from "./spool/disk-spool.js";
import { agentVersion } from "./version.js";

export interface RunningAgent {
  stop(): Promise<void>;
}

/**
 * Composition root of the agent: PBX driver → disk spool → gateway link, and gateway
 * commands → driver actions.
 */
export function startAgent(config: AgentConfig, deps: { logger?: Logger } = {}): RunningAgent {
  const logger = (deps.logger ?? createLogger("pbx-agent")).child({ agentId: config.CALLMESH_AGENT_ID });
  const spool = openDiskSpool(config.CALLMESH_SPOOL_DIR);
  const driver = createAmiDriver({
    host: config.AMI_HOST,
    port: config.AMI_PORT,
    username: config.AMI_USERNAME,
    secret: config.AMI_SECRET,
    agentId: config.CALLMESH_AGENT_ID,
    logger,
  });
  driver.onOutput((output) => {
    spool.append(output.kind === "event" ? { case: "event", value: output.event } : { case: "cdr", value: output.cdr });
  });
  driver.onConnectionChange((connected) =>
    logger.info({ connected }, connected ? "PBX connected" : "PBX disconnected"),
  );

  const runCommand = async (command: Command): Promise<CommandOutcome> => {
    switch (command.action.case) {
      case "originate":
        return driver.originate(command.action.value);
      default:
        return { status: CommandStatus.UNSUPPORTED, message: `unsupported command ${command.action.case}` };
    }
  };
  const link = createGatewayLink({
    gatewayUrl: config.CALLMESH_GATEWAY_URL,
    token: config.CALLMESH_AGENT_TOKEN,
    spool,
    logger,
    heartbeatMs: config.CALLMESH_HEARTBEAT_MS,
    runCommand,
    hello: () =>
      create(HelloSchema, {
        agentId: config.CALLMESH_AGENT_ID,
        pbxKind: driver.kind,
        pbxVersion: driver.pbxVersion,
        agentVersion,
        pbxConnected: driver.connected,
      }),
  });
  driver.start();
  link.start();
  logger.info({ gateway: config.CALLMESH_GATEWAY_URL, spoolDepth: spool.depth }, "agent started");

  return {
    async stop() {
      await Promise.all([driver.stop(), link.stop()]);
      spool.close();
      logger.info("agent stopped");
    },
  };
}

runAsEntryPoint(import.meta.url, createLogger("pbx-agent"), () => {
  const agent = startAgent(parseAgentConfig());
  return () => agent.stop();
});
