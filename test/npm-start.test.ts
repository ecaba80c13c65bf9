// What a newcomer does: `CALLMESH_DEV_API_KEY=<any> npm start`, then the curl commands it
// prints, run as printed. The click-to-call's CDR must be listed soon after.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { promisify } from "node:util";
import { eventually, freePort, kill, startParts, waitForLine } from "./support/processes.js";

const run = promisify(execFile);

it("prints curl commands that work", { timeout: 90_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "callmesh-start-"));
  const lines: string[] = [];
  const system = startParts(
    {
      CALLMESH_DATA_DIR: dataDir,
      CALLMESH_DEV_API_KEY: "any-key-123",
      CALLMESH_PORT: String(await freePort()),
      CDR_SERVICE_PORT: "0",
      AMI_SIM_PORT: "0",
      AMI_SIM_TIME_SCALE: "0.1",
      CALLMESH_LOG_LEVEL: "warn",
    },
    lines,
  );
  try {
    await waitForLine(lines, /Ctrl-C stops everything/);
    const curls = lines.filter((line) => line.trim().startsWith("curl ")).map((line) => line.trim());
    assert.equal(curls.length, 2, lines.join("\n"));
    const [clickToCall, listCdrs] = curls as [string, string];
    assert.match(clickToCall, /any-key-123/);

    const reply = await eventually(
      async () => {
        const { stdout } = await run("sh", ["-c", clickToCall]);
        const json = JSON.parse(stdout) as { callId?: string };
        return json.callId ? json : undefined; // until the agent is connected
      },
      30_000,
      "ClickToCall answered with a call id",
    );
    const listed = await eventually(
      async () => {
        const { stdout } = await run("sh", ["-c", listCdrs]);
        const json = JSON.parse(stdout) as { cdrs?: { callId: string }[] };
        return json.cdrs?.find((cdr) => cdr.callId === reply.callId);
      },
      30_000,
      "the click-to-call's CDR listed",
    );
    assert.equal(listed.callId, reply.callId);
  } finally {
    await kill(system, "SIGINT");
    assert.equal(system.exitCode, 0, "Ctrl-C stops every part cleanly");
    rmSync(dataDir, { recursive: true, force: true });
  }
});
