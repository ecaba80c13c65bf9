import { randomUUID } from "node:crypto";
import type { Logger } from "@callmesh/platform/logging.js";
import { nowMicros } from "../shared/clock.js";
import type { RenderedEslEvent } from "./esl-call-render.js";
import type { EslClientPacket, EslCommandPacket } from "./esl-command-reader.js";
import { apiResponse, commandReply, jobReply } from "./esl-replies.js";
import type { EslSession, PacketOutcome } from "./esl-session.js";
import type { SystemEvents } from "./esl-system-events.js";

/** The output of an api command, and whether the call it started already fired its API/BACKGROUND_JOB events. */
export interface ApiResult {
  readonly output: string;
  readonly announced?: boolean;
}

export interface EslCommandDeps {
  readonly password: string;
  /** Runs `api`/`bgapi` commands; `background` tells a bgapi (its job uuid given) from an api. */
  readonly runApi: (
    command: string,
    argument: string | undefined,
    job: { readonly jobUuid: string; readonly background: boolean },
  ) => Promise<ApiResult>;
  readonly channelExists: (uuid: string) => boolean;
  readonly systemEvents: SystemEvents;
  readonly broadcast: (events: readonly RenderedEslEvent[]) => Promise<void>;
  /** Tracks background jobs so close() can wait for them. */
  readonly track: (work: Promise<unknown>) => void;
  readonly logger: Logger;
}

const LOG_LEVELS: Readonly<Record<string, number>> = {
  console: 0,
  alert: 1,
  crit: 2,
  err: 3,
  error: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
};

const startsWith = (command: string, prefix: string) =>
  command.slice(0, prefix.length).toLowerCase() === prefix.toLowerCase();

/** The first line of a command, as strip_cr leaves it. */
const firstLine = (command: string) => command.split(/[\r\n]/)[0] ?? "";

/** `api <cmd> <arg>` → [cmd, arg]: the argument is everything after the first space. */
function splitApi(text: string): [string, string | undefined] {
  const space = text.indexOf(" ");
  return space < 0 ? [text, undefined] : [text.slice(0, space), text.slice(space + 1)];
}

function logReply(command: string): string {
  const level = command.slice(3).replace(/^ +/, "").split(" ")[0] ?? "";
  const number = level === "" ? 7 : /^[0-7]$/.test(level) ? Number(level) : LOG_LEVELS[level.toLowerCase()];
  // The simulator has no log lines to stream; the level is acknowledged as FreeSWITCH does.
  return number === undefined ? "-ERR invalid log level" : `+OK log level ${level} [${number}]`;
}

async function runApi(session: EslSession, text: string, deps: EslCommandDeps): Promise<void> {
  const [command, argument] = splitApi(text);
  const startedUs = nowMicros();
  const result = await deps.runApi(command, argument, { jobUuid: randomUUID(), background: false });
  await session.write(apiResponse(result.output));
  if (!result.announced) await deps.broadcast([deps.systemEvents.api(command, argument, startedUs)]);
}

function startJob(session: EslSession, packet: EslCommandPacket, text: string, deps: EslCommandDeps): Promise<void> {
  const [command, argument] = splitApi(text);
  const requested = packet.headers.find(([name]) => name.toLowerCase() === "job-uuid")?.[1];
  const jobUuid = requested && requested !== "" ? requested : randomUUID();
  const startedUs = nowMicros();
  const job = (async () => {
    const result = await deps.runApi(command, argument, { jobUuid, background: true });
    if (result.announced) return;
    await deps.broadcast([
      deps.systemEvents.api(command, argument, startedUs),
      deps.systemEvents.backgroundJob(
        jobUuid,
        command,
        argument,
        result.output === "" ? "-ERR no reply\n" : result.output,
      ),
    ]);
  })().catch((error: unknown) => deps.logger.error({ err: error, jobUuid }, "bgapi job failed"));
  deps.track(job);
  return session.write(jobReply(jobUuid));
}

/**
 * Answers one packet as mod_event_socket's parse_command does, in its order of checks: `exit` at
 * any time, then only `auth` before authentication, then the listener commands. Anything else, an
 * unknown command or an oversized packet, gets `-ERR command not found`.
 */
export async function handleEslPacket(
  session: EslSession,
  packet: EslClientPacket,
  deps: EslCommandDeps,
): Promise<PacketOutcome> {
  const reply = async (text: string, outcome: PacketOutcome = "keep") => {
    await session.write(commandReply(text));
    return outcome;
  };
  if (packet.kind === "oversized") {
    deps.logger.warn({ session: session.id, bytes: packet.bytes }, "ESL packet too long, skipped");
    return reply("-ERR command not found");
  }
  const { command } = packet;
  const line = firstLine(command);

  if (startsWith(command, "exit") || startsWith(command, "...")) return reply("+OK bye", "close");

  if (!session.authenticated) {
    if (startsWith(command, "auth ")) {
      if (line.slice(5) !== deps.password) return reply("-ERR invalid", "close");
      session.authenticated = true;
      return reply("+OK accepted");
    }
    // The simulated directory has no user with an esl-password.
    if (startsWith(command, "userauth ")) return reply("-ERR invalid", "close");
    return reply("-ERR command not found");
  }

  if (startsWith(command, "filter ")) return reply(session.subscription.filter(line.slice(7)));
  if (startsWith(command, "divert_events")) return reply("-ERR not controlling a session.");
  if (startsWith(command, "sendmsg")) {
    const uuid = line.slice(7).trim() || packet.headers.find(([name]) => name.toLowerCase() === "session-id")?.[1];
    // The simulated channels play recorded events only: the message is accepted, not executed.
    return reply(uuid && deps.channelExists(uuid) ? "+OK" : `-ERR invalid session id [${uuid ?? "(null)"}]`);
  }
  if (startsWith(command, "sendevent")) return reply(`+OK ${randomUUID()}`);
  if (startsWith(command, "api ")) {
    await runApi(session, line.slice(4), deps);
    return "keep";
  }
  if (startsWith(command, "bgapi ")) {
    await startJob(session, packet, line.slice(6), deps);
    return "keep";
  }
  if (startsWith(command, "log")) return reply(logReply(line));
  if (startsWith(command, "linger") || startsWith(command, "nolinger")) return reply("-ERR not controlling a session");
  if (startsWith(command, "nolog")) return reply("-ERR not loging");
  if (startsWith(command, "event")) return reply(session.subscription.subscribe(line.split(" ").slice(1)));
  if (startsWith(command, "nixevent")) return reply(session.subscription.unsubscribe(line.split(" ").slice(1)));
  if (startsWith(command, "noevents")) return reply(session.subscription.clear());
  return reply("-ERR command not found");
}
