// Zero loss under faults (issue 3): calls flow simulator → agent → gateway → Kafka →
// cdr-service → MongoDB while the test SIGKILLs, in turn, the gateway, the Kafka broker,
// cdr-service and the MongoDB-wire server, restarting each. At the end the store must hold
// every call's CDR exactly once. 20,000 calls unless CALLMESH_FAULT_CALLS says otherwise.
// Needs the real servers (`npm test` starts them).
import assert from "node:assert/strict";
import { type ChildProcess, execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ensureDevTenant } from "@callmesh/gateway/domain/dev-bootstrap.js";
import { createTenantDirectory } from "@callmesh/gateway/domain/tenant-directory.js";
import { CallDirection } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import { startAmiSimulator } from "@callmesh/pbx-sim/ami/ami-simulator.js";
import { openDatabase } from "@callmesh/platform/database.js";
import { createLogger } from "@callmesh/platform/logging.js";
import { MongoClient } from "mongodb";
import { eventually, freePort, kill, spawnScript, waitForLine } from "./support/processes.js";
import { testCredentials } from "./support/server.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const calls = Number(process.env.CALLMESH_FAULT_CALLS ?? 20_000);
const required = ["DATABASE_URL", "KAFKA_BROKERS", "MONGODB_URL"] as const;
for (const name of required) {
  if (!process.env[name])
    throw new Error(`${name} is not set: run via \`npm test\` / \`npm run test:faults\`, which start the servers`);
}
const env = process.env as Record<(typeof required)[number], string>;
const drainMs = Number(process.env.CALLMESH_FAULT_DRAIN_MS ?? 300_000);
/**
 * The simulator's call rate: at most 100/s, and slow enough that playing lasts 90 s, so all
 * four outages (Kafka's takes 15–30 s) happen while calls are still coming.
 */
const callsPerSecond = Number(process.env.CALLMESH_FAULT_CALLS_PER_SECOND ?? Math.min(100, calls / 90));

it(`stores each of ${calls} calls exactly once while every component is killed in turn`, {
  timeout: drainMs + 1_800_000,
}, async () => {
  const run = randomUUID().slice(0, 8);
  const database = `faults_${run}`;
  const [gatewayPort, cdrPort] = [await freePort(), await freePort()];
  const spoolDir = mkdtempSync(join(tmpdir(), "callmesh-faults-"));
  const common = {
    ...process.env,
    CALLMESH_LOG_LEVEL: "info",
    KAFKA_TOPIC_PREFIX: `faults-${run}.`,
    MONGODB_DATABASE: database,
    CALLMESH_HOST: "127.0.0.1",
    CALLMESH_PORT: String(gatewayPort),
    CDR_SERVICE_PORT: String(cdrPort),
    CDR_SERVICE_URL: `http://127.0.0.1:${cdrPort}`,
  };
  const started = Date.now();
  const timeline: string[] = [];
  const mark = (what: string) => {
    const line = `${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${what}`;
    timeline.push(line);
    process.stderr.write(`${line}\n`);
  };
  const logs = new Map<string, string[]>();
  const launch = (script: string, extra: Record<string, string> = {}) => {
    const lines: string[] = [];
    logs.set(script, lines);
    return { child: spawnScript(script, { ...common, ...extra }, lines), lines };
  };
  const startGateway = async () => {
    const p = launch("gateway/src/main.ts");
    await waitForLine(p.lines, /gateway listening/, 60_000);
    return p.child;
  };
  const startCdrService = async () => {
    const p = launch("cdr-service/src/main.ts");
    await waitForLine(p.lines, /cdr-service listening/, 60_000);
    return p.child;
  };

  const sim = await startAmiSimulator({ timeScale: 0, logger: createLogger("pbx-sim", "silent") });
  const mongo = new MongoClient(env.MONGODB_URL, { serverSelectionTimeoutMS: 2000 });
  let gateway: ChildProcess | undefined;
  let cdrService: ChildProcess | undefined;
  let agent: ChildProcess | undefined;
  try {
    gateway = await startGateway();
    const db = await openDatabase({ url: env.DATABASE_URL, dataDir: "" });
    await ensureDevTenant(createTenantDirectory(db.db), testCredentials);
    await db.close();
    cdrService = await startCdrService();
    const agentProcess = launch("pbx-agent/src/main.ts", {
      CALLMESH_GATEWAY_URL: `http://127.0.0.1:${gatewayPort}`,
      CALLMESH_AGENT_TOKEN: testCredentials.agentToken,
      CALLMESH_AGENT_ID: testCredentials.agentId,
      CALLMESH_SPOOL_DIR: spoolDir,
      CALLMESH_AGENT_OPS_PORT: "0",
      AMI_PORT: String(sim.port),
      AMI_USERNAME: "callmesh",
      AMI_SECRET: "callmesh",
    });
    agent = agentProcess.child;
    // A PBX tells only the clients logged in when a call happens: wait for both links.
    await waitForLine(agentProcess.lines, /AMI logged in/, 30_000);
    await waitForLine(agentProcess.lines, /connected to the gateway/, 30_000);
    mark(`system up; playing ${calls} calls`);

    const faults: { at: number; name: string; act: () => Promise<void> }[] = [
      {
        at: 0.15,
        name: "gateway",
        act: async () => {
          if (gateway) await kill(gateway, "SIGKILL");
          gateway = await startGateway();
        },
      },
      { at: 0.35, name: "Kafka broker", act: () => restartServer("kafka") },
      {
        at: 0.55,
        name: "cdr-service",
        act: async () => {
          if (cdrService) await kill(cdrService, "SIGKILL");
          cdrService = await startCdrService();
        },
      },
      { at: 0.75, name: "MongoDB-wire server", act: () => restartServer("mongo") },
    ];
    const chosen = new Set((process.env.CALLMESH_FAULTS ?? "gateway,kafka,cdr-service,mongo").split(","));
    const keys = ["gateway", "kafka", "cdr-service", "mongo"];
    const active = faults.filter((_, i) => chosen.has(keys[i] ?? ""));
    const collection = () => mongo.db(database).collection("cdrs");
    const stored = () =>
      collection()
        .countDocuments({})
        .catch(() => -1);

    // Calls keep coming while each component is down, so every fault meets CDRs in flight:
    // in the agent's spool, in the gateway, in Kafka, in cdr-service's batch, in the store.
    let played = 0;
    const playing = play(sim, calls, callsPerSecond, (n) => {
      played = n;
    });
    for (const fault of active) {
      const at = Math.floor(calls * fault.at);
      await eventually(async () => (played >= at ? true : undefined), 600_000, `${at} calls played`);
      // …and only once CDRs reach the store again after the last fault: the pipeline flows end to end.
      const before = await stored();
      await eventually(async () => ((await stored()) > before ? true : undefined), 300_000, "CDRs flowing");
      const now = await stored();
      mark(`${played} calls played, ${now} stored (${played - now} in flight); SIGKILL ${fault.name}`);
      assert.ok(played > now, `CDRs in flight when ${fault.name} is killed`);
      await fault.act();
      mark(`${fault.name} back (${played} played, ${await stored()} stored)`);
    }
    await playing;
    mark(`all ${played} calls played`);

    await eventually(async () => ((await stored()) >= calls ? true : undefined), drainMs, `${calls} CDRs stored`);
    mark(`${await stored()} CDRs stored; waiting for late duplicates`);
    await new Promise((resolve) => setTimeout(resolve, 5000));

    const count = await stored();
    const distinct = (await collection().distinct("callId")).length;
    const inbound = await collection().countDocuments({ direction: CallDirection.INBOUND });
    mark(`final: ${count} documents, ${distinct} distinct call ids, ${inbound} inbound`);
    process.stderr.write(`\ntimeline:\n${timeline.join("\n")}\n`);
    assert.equal(count, calls, "every call stored, none twice");
    assert.equal(distinct, calls);
    assert.equal(inbound, Math.ceil(calls / 2), "half the calls were inbound answered, half outbound busy");
  } catch (error) {
    process.stderr.write(`\ntimeline:\n${timeline.join("\n")}\n`);
    for (const [script, lines] of logs) process.stderr.write(`\n--- ${script}\n${lines.slice(-25).join("\n")}\n`);
    throw error;
  } finally {
    for (const child of [agent, gateway, cdrService]) if (child) await kill(child, "SIGTERM");
    await sim.close();
    await mongo
      .db(database)
      .dropDatabase()
      .catch(() => {});
    await mongo.close();
    rmSync(spoolDir, { recursive: true, force: true });
  }
});

/**
 * Plays `calls` calls (even: inbound answered, odd: outbound busy) at a steady rate, as a
 * busy PBX would, so that each fault lands in the middle of the flow.
 */
async function play(
  sim: Awaited<ReturnType<typeof startAmiSimulator>>,
  calls: number,
  perSecond: number,
  onPlayed: (played: number) => void,
) {
  const batch = 10;
  const started = Date.now();
  for (let i = 0; i < calls; i += batch) {
    const end = Math.min(calls, i + batch);
    const plays: Promise<void>[] = [];
    for (let n = i; n < end; n++) plays.push(n % 2 === 0 ? sim.playInboundAnswered() : sim.playOutboundBusy());
    await Promise.all(plays);
    onPlayed(end);
    const due = started + (end / perSecond) * 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
  }
}

/** SIGKILLs one of the project's servers and starts it again with the project's script. */
async function restartServer(name: "kafka" | "mongo"): Promise<void> {
  const servers = join(root, "scripts/servers/servers.sh");
  // Asynchronous on purpose: the simulator in this process keeps playing calls meanwhile.
  const run = promisify(execFile);
  const pid = Number((await run("bash", [servers, "pid", name])).stdout.trim());
  process.kill(pid, "SIGKILL");
  await eventually(async () => (isAlive(pid) ? undefined : true), 10_000, `${name} (pid ${pid}) gone`);
  await run("bash", [servers, "start", name]);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
