import { pathToFileURL } from "node:url";
import { stopOnSignals } from "@callmesh/platform/lifecycle.js";
import { createLogger, type Logger } from "@callmesh/platform/logging.js";
import { startAmiSimulator } from "./ami/ami-simulator.js";
import { type PbxSimConfig, parsePbxSimConfig } from "./config.js";

export interface RunningPbxSim {
  readonly port: number;
  stop(): Promise<void>;
}

/** Composition root of pbx-sim: the AMI simulator and, if configured, its own stream of calls. */
export async function startPbxSim(config: PbxSimConfig, deps: { logger?: Logger } = {}): Promise<RunningPbxSim> {
  const logger = deps.logger ?? createLogger("pbx-sim");
  const simulator = await startAmiSimulator({
    host: config.AMI_SIM_HOST,
    port: config.AMI_SIM_PORT,
    username: config.AMI_SIM_USERNAME,
    secret: config.AMI_SIM_SECRET,
    timeScale: config.AMI_SIM_TIME_SCALE,
    logger,
  });
  const loop =
    config.AMI_SIM_CALL_INTERVAL_MS > 0 ? simulator.startCallLoop(config.AMI_SIM_CALL_INTERVAL_MS) : undefined;
  logger.info(
    { port: simulator.port, timeScale: config.AMI_SIM_TIME_SCALE, callIntervalMs: config.AMI_SIM_CALL_INTERVAL_MS },
    "pbx-sim ready",
  );
  return {
    port: simulator.port,
    async stop() {
      loop?.stop();
      await simulator.close();
    },
  };
}

async function main() {
  const config = parsePbxSimConfig();
  const logger = createLogger("pbx-sim");
  const running = await startPbxSim(config, { logger });
  stopOnSignals(logger, () => running.stop());
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((error: unknown) => {
    process.stderr.write(`pbx-sim: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
