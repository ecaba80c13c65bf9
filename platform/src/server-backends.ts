import { type DatabaseHandle, openDatabase } from "./database.js";
import type { EventLog } from "./event-log/event-log.js";
import { openEventLog, parseEventLogConfig } from "./event-log/open-event-log.js";
import type { Logger } from "./logging.js";

/**
 * The database and event log of a service started on its own. Embedded PGlite lives in
 * one process, so alone a service needs a PostgreSQL server; `npm start` shares one PGlite
 * between the gateway and cdr-service instead.
 */
export async function openServerBackends(
  service: string,
  databaseUrl: string | undefined,
  logger: Logger,
): Promise<{ database: DatabaseHandle; eventLog: EventLog }> {
  if (!databaseUrl) {
    throw new Error(
      `${service} alone needs DATABASE_URL (PostgreSQL); on embedded PGlite it runs in one process with the other services: npm start`,
    );
  }
  const database = await openDatabase({
    url: databaseUrl,
    dataDir: "",
    onIdleError: (error) => logger.warn({ err: error }, "PostgreSQL ended an idle connection"),
  });
  const eventLog = await openEventLog(database, parseEventLogConfig(), { clientId: service, logger });
  return { database, eventLog };
}
