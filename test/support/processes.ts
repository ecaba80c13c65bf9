import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** A free TCP port on 127.0.0.1 (for a child process that must be told its port). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, "close");
  return port;
}

/** Settings that move the system off its embedded defaults (scripts/test.sh exports them for the suites that want the real servers). */
const realServerVars = /^(DATABASE_URL|KAFKA_|MONGODB_|S3_)/;

/** The environment of this process without the real servers' settings: the embedded system. */
export function embeddedEnv(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !realServerVars.test(name)));
}

/** Runs a TypeScript entry point of the repo as a child process; its log lines go to `lines`. */
export function spawnScript(
  script: string,
  env: Record<string, string | undefined>,
  lines: string[] = [],
): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding("utf8");
    stream?.on("data", (text: string) => lines.push(...text.split("\n").filter(Boolean)));
  }
  return child;
}

/**
 * Runs `npm start`'s entry point with `env` as a child process, on embedded defaults unless
 * `env` names servers; its log lines go to `lines`.
 */
export function startParts(env: Record<string, string>, lines: string[] = []): ChildProcess {
  return spawnScript("scripts/start.ts", { ...embeddedEnv(), CALLMESH_LOG_LEVEL: "info", ...env }, lines);
}

/** Resolves once a line matching `pattern` was logged, or rejects after `timeoutMs`. */
export async function waitForLine(lines: string[], pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!lines.some((line) => pattern.test(line))) {
    if (Date.now() > deadline)
      throw new Error(`no log line like ${pattern} in time; last lines:\n${lines.slice(-20).join("\n")}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill(signal);
  await exited;
}

/** Polls `probe` until it returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
