// Nothing lost, nothing stored twice: the agent is SIGKILLed while the gateway is down, then
// both restart. The server (gateway + cdr-service) and the agent are separate processes, as
// in production; the simulated PBX runs in the test.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { startAmiSimulator } from "@callmesh/pbx-sim/ami/ami-simulator.js";
import { eventually, freePort, kill, startParts, waitForLine } from "./support/processes.js";
import { postJson, testCredentials } from "./support/server.js";

const dataDir = mkdtempSync(join(tmpdir(), "callmesh-crash-"));
after(() => rmSync(dataDir, { recursive: true, force: true }));

it("loses no CDR and stores none twice when the agent dies while the gateway is down", {
  timeout: 120_000,
}, async () => {
  const sim = await startAmiSimulator({ timeScale: 0.02 });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const common = {
    CALLMESH_DATA_DIR: dataDir,
    CALLMESH_DEV_API_KEY: testCredentials.apiKey,
    CALLMESH_DEV_AGENT_TOKEN: testCredentials.agentToken,
    CALLMESH_PORT: String(port),
    CALLMESH_HOST: "127.0.0.1",
    CDR_SERVICE_PORT: "0",
  };
  const agentEnv = { ...common, CALLMESH_PARTS: "agent", AMI_PORT: String(sim.port), CALLMESH_GATEWAY_URL: url };
  const serverEnv = { ...common, CALLMESH_PARTS: "server" };
  const logs: string[][] = []; // each process's lines, for the report on failure
  const start = (env: Record<string, string>) => {
    const lines: string[] = [];
    logs.push(lines);
    return { child: startParts(env, lines), lines };
  };
  let server: ChildProcess | undefined;
  let agent: ChildProcess | undefined;
  const listed = async () => {
    const { json } = await postJson(url, "callmesh.crm.v1.CdrService/ListCdrs", { pageSize: 500 });
    return (json.cdrs ?? []) as Record<string, unknown>[];
  };
  try {
    let started = start(serverEnv);
    server = started.child;
    await waitForLine(started.lines, /gateway listening/);
    started = start(agentEnv);
    agent = started.child;
    await waitForLine(started.lines, /connected to the gateway/);

    await sim.playInboundAnswered();
    await eventually(async () => ((await listed()).length === 1 ? true : undefined), 15_000, "first CDR stored");

    await kill(server, "SIGKILL");
    const calls = 3;
    for (let i = 0; i < calls; i++) await sim.playOutboundBusy();
    // The agent writes a call's Cdr once Asterisk's trailing Cdr events had their grace time
    // (cdrGraceMs, 2 s), then spools it at once; wait past that before the kill.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await kill(agent, "SIGKILL");

    started = start(serverEnv);
    server = started.child;
    await waitForLine(started.lines, /gateway listening/);
    agent = start(agentEnv).child;

    const all = await eventually(
      async () => {
        const cdrs = await listed();
        return cdrs.length >= 1 + calls ? cdrs : undefined;
      },
      30_000,
      "spooled CDRs stored after the restart",
    );
    await new Promise((resolve) => setTimeout(resolve, 1000)); // time for duplicates to show, if any
    const final = await listed();
    assert.equal(final.length, 1 + calls, "each call stored exactly once");
    assert.equal(new Set(final.map((c) => c.callId)).size, 1 + calls);
    const busy = all.filter((c) => c.status === "CALL_STATUS_BUSY");
    assert.equal(busy.length, calls);
    for (const cdr of busy) assert.equal(cdr.direction, "CALL_DIRECTION_OUTBOUND");
  } catch (error) {
    process.stderr.write(`${logs.flatMap((lines) => lines.slice(-30)).join("\n")}\n`);
    throw error;
  } finally {
    if (agent) await kill(agent, "SIGTERM");
    if (server) await kill(server, "SIGTERM");
    await sim.close();
  }
});
