import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAgentConfig } from "@callmesh/pbx-agent/config.js";
import { type RunningAgent, startAgent } from "@callmesh/pbx-agent/main.js";
import { createLogger } from "@callmesh/platform/logging.js";
import { eventually } from "./processes.js";
import { type TestServer, testCredentials } from "./server.js";

/** The simulated PBX an agent logs in to, as the agent's settings name it. */
export type TestPbx =
  | { kind: "asterisk"; port: number; username?: string; secret?: string }
  | { kind: "freeswitch"; port: number; password?: string };

export interface TestAgent {
  readonly agent: RunningAgent;
  /** The settings it started with (env names), to start it again the same way. */
  readonly settings: Record<string, string>;
  readonly spoolDir: string;
  /** Stops it, as SIGTERM would, keeping the spool for a restart. */
  stop(): Promise<void>;
  /** Starts a new agent on the same settings and spool, once this one stopped. */
  restart(): Promise<TestAgent>;
  /** Stops it and deletes its spool. */
  dispose(): Promise<void>;
}

/**
 * The development agent in this process, between `pbx` and the test server, returned once it
 * is ready (logged in to the PBX and streaming). `settings` adds or overrides env settings.
 */
export async function startTestAgent(
  server: TestServer,
  pbx: TestPbx,
  settings: Record<string, string> = {},
): Promise<TestAgent> {
  const spoolDir = settings.CALLMESH_SPOOL_DIR ?? mkdtempSync(join(tmpdir(), "callmesh-spool-"));
  const all = {
    CALLMESH_AGENT_OPS_PORT: "0",
    CALLMESH_GATEWAY_URL: server.url,
    CALLMESH_AGENT_TOKEN: testCredentials.agentToken,
    CALLMESH_AGENT_ID: testCredentials.agentId,
    CALLMESH_SPOOL_DIR: spoolDir,
    ...pbxSettings(pbx),
    ...settings,
  };
  const agent = await startAgent(parseAgentConfig(all), { logger: createLogger("pbx-agent", "silent") });
  const ready = `http://127.0.0.1:${agent.opsPort}/readyz`;
  await eventually(async () => ((await fetch(ready)).status === 200 ? true : undefined), 15_000, "agent ready");
  return {
    agent,
    settings: all,
    spoolDir,
    stop: () => agent.stop(),
    restart: () => startTestAgent(server, pbx, all),
    async dispose() {
      await agent.stop();
      rmSync(spoolDir, { recursive: true, force: true });
    },
  };
}

function pbxSettings(pbx: TestPbx): Record<string, string> {
  if (pbx.kind === "asterisk") {
    return {
      AMI_PORT: String(pbx.port),
      AMI_USERNAME: pbx.username ?? "callmesh",
      AMI_SECRET: pbx.secret ?? "callmesh",
    };
  }
  return { PBX_KIND: "freeswitch", ESL_PORT: String(pbx.port), ESL_PASSWORD: pbx.password ?? "ClueCon" };
}
