import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger };

/**
 * The root logger of a service: JSON lines on stdout, one `service` field on every line.
 * Children carry request-scoped fields (`callId`, `tenantId`, `agentId`).
 * CALLMESH_LOG_LEVEL picks the level (default "info"; "silent" in tests that want quiet).
 */
export function createLogger(
  service: string,
  level = process.env.CALLMESH_LOG_LEVEL ?? "info",
  destination?: DestinationStream,
): Logger {
  const options = { base: { service }, level, timestamp: pino.stdTimeFunctions.isoTime };
  return destination ? pino(options, destination) : pino(options);
}

/** Where a command whose stdout is its output logs: stderr. */
export const stderrDestination = (): DestinationStream => pino.destination(2);
