import { pathToFileURL } from "node:url";
import { stopOnSignals } from "@callmesh/platform/lifecycle.js";
import { createLogger, type Logger } from "@callmesh/platform/logging.js";
import { startAmiSimulator } from "./ami/ami-simulator.js";
import { type PbxSimConfig, type PbxSimProtocol, parsePbxSimConfig } from "./config.js";
import { startEslSimulator } from "./esl/esl-simulator.js";

export interface RunningPbxSim {
  /** The first served protocol's port: the AMI's when it runs, else the event socket's. */
  readonly port: number;
  readonly amiPort?: number;
  readonly eslPort?: number;
  stop(): Promise<void>;
}

interface Simulator {
  readonly port: number;
  startCallLoop(intervalMs: number): { stop(): void };
  close(): Promise<void>;
}

/** Composition root of pbx-sim: the simulators PBX_SIM_PROTOCOLS names, each with its own calls. */
export async function startPbxSim(config: PbxSimConfig, deps: { logger?: Logger } = {}): Promise<RunningPbxSim> {
  const logger = deps.logger ?? createLogger("pbx-sim");
  const protocols = new Set(config.PBX_SIM_PROTOCOLS);
  const running: Array<{ port: number; stop(): Promise<void> }> = [];

  /** Starts the protocol's simulator if configured and, if asked, its own stream of calls. */
  const serve = async (protocol: PbxSimProtocol, start: () => Promise<Simulator>, callIntervalMs: number) => {
    if (!protocols.has(protocol)) return undefined;
    const simulator = await start();
    const loop = callIntervalMs > 0 ? simulator.startCallLoop(callIntervalMs) : undefined;
    const served = {
      port: simulator.port,
      async stop() {
        loop?.stop();
        await simulator.close();
      },
    };
    running.push(served);
    return served;
  };

  try {
    const ami = await serve(
      "ami",
      () =>
        startAmiSimulator({
          host: config.AMI_SIM_HOST,
          port: config.AMI_SIM_PORT,
          username: config.AMI_SIM_USERNAME,
          secret: config.AMI_SIM_SECRET,
          timeScale: config.AMI_SIM_TIME_SCALE,
          logger,
        }),
      config.AMI_SIM_CALL_INTERVAL_MS,
    );
    const esl = await serve(
      "esl",
      () =>
        startEslSimulator({
          host: config.ESL_SIM_HOST,
          port: config.ESL_SIM_PORT,
          password: config.ESL_SIM_PASSWORD,
          timeScale: config.ESL_SIM_TIME_SCALE,
          heartbeatIntervalMs: config.ESL_SIM_HEARTBEAT_MS,
          logger,
        }),
      config.ESL_SIM_CALL_INTERVAL_MS,
    );
    const port = ami?.port ?? esl?.port ?? 0;
    logger.info({ amiPort: ami?.port, eslPort: esl?.port, protocols: [...protocols] }, "pbx-sim ready");
    return {
      port,
      ...(ami ? { amiPort: ami.port } : {}),
      ...(esl ? { eslPort: esl.port } : {}),
      async stop() {
        await Promise.all(running.map((simulator) => simulator.stop()));
      },
    };
  } catch (error) {
    // One simulator could not listen: do not leave the other running.
    await Promise.allSettled(running.map((simulator) => simulator.stop()));
    throw error;
  }
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
