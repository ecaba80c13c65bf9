import { pathToFileURL } from "node:url";
import type { Logger } from "pino";

/**
 * Runs `stop` once on the first SIGINT or SIGTERM and exits when it settles; a second
 * signal exits at once. Returns a function that removes the handlers.
 */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal, exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "stopping");
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "stop failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}

/**
 * A service's entry point: when `moduleUrl` is the script node was started with, runs
 * `main`, which starts the service and returns how to stop it; stops on SIGINT/SIGTERM.
 * A failure to start prints one line naming the service and exits 1.
 */
export function runAsEntryPoint(
  moduleUrl: string,
  logger: Logger,
  main: () => Promise<() => Promise<void>> | (() => Promise<void>),
): void {
  if (moduleUrl !== pathToFileURL(process.argv[1] ?? "").href) return;
  Promise.resolve()
    .then(main)
    .then(
      (stop) => stopOnSignals(logger, stop),
      (error: unknown) => {
        const service = (logger.bindings() as { service?: string }).service ?? "callmesh";
        process.stderr.write(`${service}: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
}
