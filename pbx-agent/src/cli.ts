import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { stopOnSignals } from "@callmesh/platform/lifecycle.js";
import { createLogger, stderrDestination } from "@callmesh/platform/logging.js";
import { parseAgentConfig } from "./config.js";
import { startAgent } from "./main.js";
import { type ReplayDriver, replayCapture, replayDrivers } from "./replay/replay.js";

const usage = `Usage:
  callmesh-agent [run]            run the agent (settings from the environment: docs/agent.md)
  callmesh-agent replay --driver ami|esl [options] FILE
                                  print what the agent makes of a captured PBX session, one
                                  JSON line per output: {"event": CallEvent} or {"cdr": Cdr}
Replay options:
  --driver ami|esl                the protocol of FILE (Asterisk AMI or FreeSWITCH event socket)
  --agent-id ID                   seeds the call ids as the agent's id does (default "replay")
  --trunk-context NAME            a context calls from carriers enter; repeatable; NAME* = prefix
  --trunk-profile NAME            (esl) a sofia profile facing carriers; repeatable
  --trunk-gateway NAME            (esl) a sofia gateway that is a trunk; repeatable
  --extension-pattern REGEX       what an extension looks like (default ^\\d{2,6}$)
FILE is a capture as the PBX sent it: leading # comment lines and what the client sent are
skipped, CRLF or LF. "-" reads standard input.`;

/** A mistake in how the command was called: printed with the usage, exit 2. */
class UsageError extends Error {}

/** Runs the command line `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io = { stdout: process.stdout, stdin: process.stdin }) {
  const [command = "run", ...rest] = argv;
  try {
    switch (command) {
      case "run":
        return await runAgent(rest);
      case "replay":
        return await replay(rest, io);
      case "help":
      case "--help":
      case "-h":
        io.stdout.write(`${usage}\n`);
        return 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (!(error instanceof UsageError || isParseArgsError(error))) throw error;
    process.stderr.write(`callmesh-agent: ${(error as Error).message}\n\n${usage}\n`);
    return 2;
  }
}

async function runAgent(args: readonly string[]): Promise<number> {
  if (args.length > 0) throw new UsageError(`run takes no arguments (got "${args.join(" ")}")`);
  const logger = createLogger("pbx-agent");
  const agent = await startAgent(parseAgentConfig(), { logger });
  stopOnSignals(logger, () => agent.stop());
  return new Promise<number>(() => {}); // runs until a signal stops the process
}

async function replay(args: readonly string[], io: { stdout: NodeJS.WritableStream; stdin: NodeJS.ReadableStream }) {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      driver: { type: "string" },
      "agent-id": { type: "string", default: "replay" },
      "trunk-context": { type: "string", multiple: true },
      "trunk-profile": { type: "string", multiple: true },
      "trunk-gateway": { type: "string", multiple: true },
      "extension-pattern": { type: "string" },
    },
  });
  const driver = values.driver;
  if (!isReplayDriver(driver)) throw new UsageError(`--driver must be ami or esl (got ${driver ?? "nothing"})`);
  if (positionals.length !== 1) throw new UsageError("replay takes one FILE");
  const file = positionals[0] as string;
  const capture = file === "-" ? await readAll(io.stdin) : readCaptureFile(file);
  let output = "";
  replayCapture(capture, {
    driver,
    agentId: values["agent-id"],
    trunkContexts: values["trunk-context"],
    trunkProfiles: values["trunk-profile"],
    trunkGateways: values["trunk-gateway"],
    extensionPattern: extensionPattern(values["extension-pattern"]),
    write: (line) => {
      output += `${line}\n`;
    },
    logger: createLogger("callmesh-agent-replay", process.env.CALLMESH_LOG_LEVEL ?? "warn", stderrDestination()),
  });
  io.stdout.write(output);
  return 0;
}

function readCaptureFile(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

function extensionPattern(source: string | undefined): RegExp | undefined {
  if (source === undefined) return undefined;
  try {
    return new RegExp(source);
  } catch (error) {
    throw new UsageError(`--extension-pattern is not a regular expression: ${(error as Error).message}`);
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

const isReplayDriver = (value: string | undefined): value is ReplayDriver =>
  (replayDrivers as readonly string[]).includes(value ?? "");

const isParseArgsError = (error: unknown) =>
  error instanceof TypeError && String((error as NodeJS.ErrnoException).code).startsWith("ERR_PARSE_ARGS");
