// `npm start`: the whole system in one process on embedded defaults — PGlite for config,
// event log and CDRs, cdr-service, the gateway, an Asterisk AMI simulator making calls, and
// a pbx-agent on it. CALLMESH_PARTS picks a subset (server = gateway + cdr-service), which
// is how tests run the agent and the server as separate processes.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseCdrServiceConfig } from "@callmesh/cdr-service/config.js";
import { startCdrService } from "@callmesh/cdr-service/main.js";
import { parseGatewayConfig } from "@callmesh/gateway/config.js";
import { newSecret } from "@callmesh/gateway/domain/credentials.js";
import { type DevCredentials, ensureDevTenant } from "@callmesh/gateway/domain/dev-bootstrap.js";
import { startGateway } from "@callmesh/gateway/main.js";
import { parseAgentConfig } from "@callmesh/pbx-agent/config.js";
import { startAgent } from "@callmesh/pbx-agent/main.js";
import { startAmiSimulator } from "@callmesh/pbx-sim/ami/ami-simulator.js";
import { optionalVar, parseConfig, portVar, z } from "@callmesh/platform/config.js";
import { openDatabase } from "@callmesh/platform/database.js";
import { openEventLog, parseEventLogConfig } from "@callmesh/platform/event-log/open-event-log.js";
import { stopOnSignals } from "@callmesh/platform/lifecycle.js";
import { createLogger } from "@callmesh/platform/logging.js";

const config = parseConfig(
  z.object({
    CALLMESH_PARTS: z
      .string()
      .default("server,sim,agent")
      .transform((value) => new Set(value.split(",").map((part) => part.trim())))
      .pipe(z.set(z.enum(["server", "sim", "agent"])))
      .describe("comma-separated parts to run: server (gateway + cdr-service), sim (AMI simulator), agent"),
    CALLMESH_DATA_DIR: z.string().default("./data").describe("where embedded data lives"),
    CALLMESH_DEV_API_KEY: optionalVar().describe("API key of the development tenant; default: generated on first run"),
    CALLMESH_DEV_AGENT_TOKEN: optionalVar().describe("token of the development agent; default: generated on first run"),
    AMI_SIM_PORT: portVar(5038).describe("port of the AMI simulator"),
    AMI_SIM_TIME_SCALE: z.coerce.number().min(0).default(1).describe("simulated call timing, 1 = as recorded"),
    AMI_SIM_CALL_INTERVAL_MS: z.coerce
      .number()
      .int()
      .min(0)
      .default(10_000)
      .describe("a simulated call every this many ms; 0: none"),
  }),
);

const logger = createLogger("callmesh");
const dataDir = resolve(config.CALLMESH_DATA_DIR);
mkdirSync(dataDir, { recursive: true });
const credentials = devCredentials();
const stops: (() => Promise<void>)[] = [];
const env = { ...process.env, CALLMESH_DATA_DIR: dataDir };
let gatewayPort = parseGatewayConfig(env).CALLMESH_PORT;

if (config.CALLMESH_PARTS.has("server")) {
  const cdrConfig = parseCdrServiceConfig(env);
  const database = await openDatabase({ url: cdrConfig.DATABASE_URL, dataDir: join(dataDir, "pglite") });
  const eventLog = await openEventLog(database, parseEventLogConfig(env), { clientId: "callmesh", logger });
  const cdrService = await startCdrService(cdrConfig, { database, eventLog });
  const gatewayConfig = parseGatewayConfig({ CDR_SERVICE_URL: `http://127.0.0.1:${cdrService.port}`, ...env });
  const gateway = await startGateway(gatewayConfig, { database, eventLog });
  gatewayPort = gateway.port;
  await ensureDevTenant(gateway.directory, credentials);
  stops.push(async () => {
    await gateway.stop();
    await cdrService.stop();
    await eventLog.close();
    await database.close();
  });
}

let amiPort = Number(process.env.AMI_PORT ?? config.AMI_SIM_PORT);
if (config.CALLMESH_PARTS.has("sim")) {
  const sim = await startAmiSimulator({
    port: config.AMI_SIM_PORT,
    username: "callmesh",
    secret: "callmesh",
    timeScale: config.AMI_SIM_TIME_SCALE,
  });
  amiPort = sim.port;
  if (config.AMI_SIM_CALL_INTERVAL_MS > 0) sim.startCallLoop(config.AMI_SIM_CALL_INTERVAL_MS);
  logger.info({ port: sim.port }, "AMI simulator listening");
  stops.unshift(() => sim.close());
}

if (config.CALLMESH_PARTS.has("agent")) {
  const agent = await startAgent(
    parseAgentConfig({
      CALLMESH_AGENT_OPS_PORT: "0", // several `npm start`s (and tests) side by side
      AMI_USERNAME: "callmesh",
      AMI_SECRET: "callmesh",
      CALLMESH_SPOOL_DIR: join(dataDir, "agent-spool"),
      CALLMESH_AGENT_ID: credentials.agentId,
      CALLMESH_AGENT_TOKEN: credentials.agentToken,
      CALLMESH_GATEWAY_URL: `http://127.0.0.1:${gatewayPort}`,
      ...process.env,
      AMI_PORT: String(amiPort),
    }),
  );
  stops.unshift(() => agent.stop());
}

stopOnSignals(logger, async () => {
  for (const stop of stops) await stop();
});

if (config.CALLMESH_PARTS.has("server")) printWelcome();

/** The dev tenant's secrets: from the environment, else from the data dir, else new (and saved there). */
function devCredentials(): DevCredentials {
  const path = join(dataDir, "dev-credentials.json");
  const saved: Partial<DevCredentials> = existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : {};
  const credentials: DevCredentials = {
    tenantId: "dev",
    agentId: "dev-pbx-1",
    apiKey: config.CALLMESH_DEV_API_KEY ?? saved.apiKey ?? newSecret("cmk"),
    agentToken: config.CALLMESH_DEV_AGENT_TOKEN ?? saved.agentToken ?? newSecret("cma"),
  };
  const text = `${JSON.stringify(credentials, null, 2)}\n`;
  if (!existsSync(path) || readFileSync(path, "utf8") !== text) {
    // Atomic: the server and agent parts may start at once and read it while it is written.
    writeFileSync(`${path}.tmp`, text, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  }
  return credentials;
}

function printWelcome() {
  const base = `http://localhost:${gatewayPort}`;
  const auth = `-H 'Authorization: Bearer ${credentials.apiKey}' -H 'Content-Type: application/json'`;
  process.stderr.write(`
Callmesh is running: gateway ${base}, tenant "${credentials.tenantId}", API key ${credentials.apiKey}

Ring extension 1001, then dial +35799123456 when it answers:
  curl -s ${auth} -d '{"extension":"1001","destination":"+35799123456","variables":{"CRM_ID":"abc123"}}' ${base}/callmesh.crm.v1.CallService/ClickToCall

List the newest CDRs:
  curl -s ${auth} -d '{"pageSize":5}' ${base}/callmesh.crm.v1.CdrService/ListCdrs

Ctrl-C stops everything.
`);
}
