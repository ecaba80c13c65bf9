import { type Logger, pino } from "pino";

export type { Logger };

/**
 * The root logger of a service: JSON lines on stdout, one `service` field on every line.
 * Children carry request-scoped fields (`callId`, `tenantId`, `agentId`).
 * CALLMESH_LOG_LEVEL picks the level (default "info"; "silent" in tests that want quiet).
 */
export function createLogger(service: string, level = process.env.CALLMESH_LOG_LEVEL ?? "info"): Logger {
  return pino({ base: { service }, level, timestamp: pino.stdTimeFunctions.isoTime });
}
