import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCdrServiceConfig } from "@callmesh/cdr-service/config.js";
import { startCdrService } from "@callmesh/cdr-service/main.js";
import { parseGatewayConfig } from "@callmesh/gateway/config.js";
import { type DevCredentials, ensureDevTenant } from "@callmesh/gateway/domain/dev-bootstrap.js";
import type { TenantDirectory } from "@callmesh/gateway/domain/tenant-directory.js";
import { startGateway } from "@callmesh/gateway/main.js";
import { openDatabase } from "@callmesh/platform/database.js";
import type { ConsumedRecord, EventLog, Topic } from "@callmesh/platform/event-log/event-log.js";
import { openEventLog, parseEventLogConfig } from "@callmesh/platform/event-log/open-event-log.js";
import { createLogger } from "@callmesh/platform/logging.js";

export const testCredentials: DevCredentials = {
  tenantId: "dev",
  apiKey: "cmk_test_key",
  agentId: "test-pbx",
  agentToken: "cma_test_token",
};

export interface TestServer {
  readonly url: string;
  readonly eventLog: EventLog;
  readonly dataDir: string;
  /** To add tenants, keys and agents beyond the development ones. */
  readonly directory: TenantDirectory;
  stop(): Promise<void>;
}

/** Gateway + cdr-service in this process on PGlite in a fresh temp dir, on free ports. */
export async function startTestServer(
  options: { dataDir?: string; gatewayEnv?: Record<string, string> } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "callmesh-test-"));
  const logger = createLogger("test", process.env.CALLMESH_LOG_LEVEL ?? "silent");
  const database = await openDatabase({ dataDir: join(dataDir, "pglite") });
  const eventLog = await openEventLog(database, parseEventLogConfig({}), { clientId: "test", logger });
  const cdr = await startCdrService(parseCdrServiceConfig({ CDR_SERVICE_PORT: "0" }), { database, eventLog, logger });
  const gateway = await startGateway(
    parseGatewayConfig({
      CALLMESH_HOST: "127.0.0.1",
      CALLMESH_PORT: "0",
      CDR_SERVICE_URL: `http://127.0.0.1:${cdr.port}`,
      CALLMESH_COMMAND_TIMEOUT_MS: "3000",
      ...options.gatewayEnv,
    }),
    { database, eventLog, logger },
  );
  await ensureDevTenant(gateway.directory, testCredentials);
  return {
    url: `http://127.0.0.1:${gateway.port}`,
    eventLog,
    dataDir,
    directory: gateway.directory,
    async stop() {
      await gateway.stop(100);
      await cdr.stop();
      await database.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A Connect JSON call, as curl would make it. */
export async function postJson(
  url: string,
  path: string,
  body: unknown,
  /** null sends no Authorization header. */
  apiKey: string | null = testCredentials.apiKey,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${url}/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Reads a topic from its start until `until` says enough (or the time is up). */
export async function readTopic(
  eventLog: EventLog,
  topic: Topic,
  until: (records: ConsumedRecord[]) => boolean,
  timeoutMs = 5000,
): Promise<ConsumedRecord[]> {
  const records: ConsumedRecord[] = [];
  const done = new AbortController();
  await eventLog.consume({
    group: `test-${randomUUID()}`,
    topic,
    signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), done.signal]),
    async handle(batch) {
      records.push(...batch);
      if (until(records)) done.abort();
    },
  });
  return records;
}
