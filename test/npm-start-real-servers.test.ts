// `env $(npm run -s servers:env) npm start`: the same system on PostgreSQL, Kafka and
// MongoDB. A click-to-call must end as exactly one CDR document in MongoDB with its call id.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { MongoClient } from "mongodb";
import { eventually, freePort, kill, startParts, waitForLine } from "./support/processes.js";
import { postJson } from "./support/server.js";

const servers = ["DATABASE_URL", "KAFKA_BROKERS", "MONGODB_URL"].map((name) => {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: run via \`npm test\` (it starts the servers) or \`npm run servers:start\``);
  return [name, value] as const;
});

it("stores a click-to-call made through npm start as one MongoDB document", { timeout: 90_000 }, async () => {
  const run = randomUUID().slice(0, 8);
  const dataDir = mkdtempSync(join(tmpdir(), "callmesh-real-"));
  const port = await freePort();
  const lines: string[] = [];
  const system = startParts(
    {
      ...Object.fromEntries(servers),
      KAFKA_TOPIC_PREFIX: `start-${run}.`,
      MONGODB_DATABASE: `start_${run}`,
      CALLMESH_DATA_DIR: dataDir,
      CALLMESH_DEV_API_KEY: `cmk_real_${run}`,
      CALLMESH_DEV_AGENT_TOKEN: `cma_real_${run}`,
      CALLMESH_PORT: String(port),
      CDR_SERVICE_PORT: "0",
      AMI_SIM_PORT: "0",
      AMI_SIM_TIME_SCALE: "0.1",
      AMI_SIM_CALL_INTERVAL_MS: "0",
    },
    lines,
  );
  const mongo = new MongoClient(String(process.env.MONGODB_URL));
  try {
    await waitForLine(lines, /connected to the gateway/, 60_000);
    const url = `http://127.0.0.1:${port}`;
    const { json } = await postJson(
      url,
      "callmesh.crm.v1.CallService/ClickToCall",
      { extension: "1001", destination: "+35799123456", variables: { CRM_ID: "abc123" } },
      `cmk_real_${run}`,
    );
    const callId = String(json.callId);
    assert.match(callId, /^[0-9a-f-]{36}$/, JSON.stringify(json));
    const cdrs = mongo.db(`start_${run}`).collection("cdrs");
    await eventually(
      async () => ((await cdrs.countDocuments({ callId })) > 0 ? true : undefined),
      45_000,
      "CDR in MongoDB",
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(await cdrs.countDocuments({ callId }), 1);
    assert.equal(await cdrs.countDocuments({}), 1, "the only call of this run");
  } finally {
    await kill(system, "SIGINT");
    await mongo
      .db(`start_${run}`)
      .dropDatabase()
      .catch(() => {});
    await mongo.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
