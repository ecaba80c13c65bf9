import { join } from "node:path";
import type { Logger } from "@callmesh/platform/logging.js";
import type { Registry } from "@callmesh/platform/metrics.js";
import type { AgentConfig } from "./config.js";
import { createAmiDriver } from "./drivers/ami/ami-driver.js";
import { createEslDriver } from "./drivers/esl/esl-driver.js";
import type { PbxDriver } from "./ports/pbx-driver.js";

/** The driver of the configured PBX, with the trunk rules that decide call direction. */
export function createPbxDriver(config: AgentConfig, deps: { logger: Logger; metrics: Registry }): PbxDriver {
  const common = {
    agentId: config.CALLMESH_AGENT_ID,
    trunkContexts: config.PBX_TRUNK_CONTEXTS,
    extensionPattern: config.PBX_EXTENSION_PATTERN,
    logger: deps.logger,
    metrics: deps.metrics,
  };
  switch (config.PBX_KIND) {
    case "asterisk":
      return createAmiDriver({
        ...common,
        host: config.AMI_HOST,
        port: config.AMI_PORT,
        username: config.AMI_USERNAME,
        secret: config.AMI_SECRET ?? "", // required for asterisk by the config schema
        // Beside the spool: what was emitted of each call in progress, for a restart to continue it.
        stateDir: join(config.CALLMESH_SPOOL_DIR, "calls"),
      });
    case "freeswitch":
      return createEslDriver({
        ...common,
        host: config.ESL_HOST,
        port: config.ESL_PORT,
        password: config.ESL_PASSWORD ?? "", // required for freeswitch by the config schema
        trunkProfiles: config.PBX_TRUNK_PROFILES,
        trunkGateways: config.PBX_TRUNK_GATEWAYS,
        stateDir: join(config.CALLMESH_SPOOL_DIR, "calls"),
      });
  }
}
