import { createHash, randomInt, timingSafeEqual } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@callmesh/platform/logging.js";
import { nowMicros } from "../shared/clock.js";
import type { RawClientMessage } from "./ami-action-reader.js";
import { formatAmiBlock } from "./ami-block.js";
import { CALL_ACTION_HANDLERS, type CallActionDeps, originateApplication } from "./ami-call-actions.js";
import { formatAck, formatError, formatResponse } from "./ami-response.js";
import type { AmiSession, MessageOutcome } from "./ami-session.js";
import { formatAmiTimestamp } from "./ami-time.js";
import { ALL_EVENTS, parseEventMask } from "./event-mask.js";
import type { ExtensionStates } from "./extension-state.js";
import { type OriginateRequest, parseOriginate } from "./originate-request.js";
import { actionHeader } from "./received-action.js";
import { AMI_VERSION, ASTERISK_VERSION } from "./recorded-pbx.js";

/** What the action handlers need from the simulated PBX. */
export interface ActionDeps {
  readonly username: string;
  readonly secret: string;
  /** Asterisk sleeps 1 s before answering a failed login. */
  readonly authFailureDelayMs: number;
  /** When the PBX started (FullyBooted Uptime/LastReload). */
  readonly bootedAtMs: number;
  readonly extensionStates: ExtensionStates;
  /** Sends the SuccessfulAuth security event of a session that just logged in. */
  readonly announceLogin: (session: AmiSession) => void;
  /** Plays the call; resolves when its outcome is known (where OriginateResponse comes). */
  readonly originate: (request: OriginateRequest) => Promise<{ readonly answered: boolean }>;
  /** The call-control actions' channels and calls. */
  readonly calls: CallActionDeps;
  readonly logger: Logger;
}

type ActionHandler = (session: AmiSession, headers: readonly string[], deps: ActionDeps) => Promise<MessageOutcome>;

const sameSecret = (given: string, expected: string) => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

// main/manager.c authenticate(): plain Secret, or AuthType MD5 with Key = md5(challenge + secret).
function authenticates(session: AmiSession, headers: readonly string[], deps: ActionDeps): boolean {
  const username = actionHeader(headers, "Username");
  if (username === "" || username !== deps.username) return false;
  if (actionHeader(headers, "AuthType").toLowerCase() === "md5") {
    const key = actionHeader(headers, "Key");
    if (key === "" || !session.challenge) return false;
    const expected = createHash("md5")
      .update(session.challenge + deps.secret)
      .digest("hex");
    return sameSecret(key, expected);
  }
  return sameSecret(actionHeader(headers, "Secret"), deps.secret);
}

const login: ActionHandler = async (session, headers, deps) => {
  const actionId = actionHeader(headers, "ActionID");
  if (session.authenticated) {
    await session.write(formatAck(actionId, "Already authenticated"));
    return "keep";
  }
  if (!authenticates(session, headers, deps)) {
    deps.logger.info({ session: session.id }, "login failed");
    await sleep(deps.authFailureDelayMs);
    await session.write(formatError(actionId, "Authentication failed"));
    return "close";
  }
  session.authenticated = true;
  session.username = actionHeader(headers, "Username");
  const events = actionHeader(headers, "Events");
  session.eventMask = events === "" ? ALL_EVENTS : Math.max(0, parseEventMask(events));
  let reply = formatAck(actionId, "Authentication accepted");
  if (session.eventMask & 1) {
    const uptime = String(Math.floor((Date.now() - deps.bootedAtMs) / 1000));
    reply += formatAmiBlock([
      ["Event", "FullyBooted"],
      ["Privilege", "system,all"],
      ["Uptime", uptime],
      ["LastReload", uptime],
      ["Status", "Fully Booted"],
    ]);
  }
  await session.write(reply);
  deps.announceLogin(session);
  return "keep";
};

const logoff: ActionHandler = async (session, headers) => {
  await session.write(
    formatResponse("Goodbye", actionHeader(headers, "ActionID"), ["Message", "Thanks for all the fish."]),
  );
  return "close";
};

const challenge: ActionHandler = async (session, headers) => {
  const actionId = actionHeader(headers, "ActionID");
  if (actionHeader(headers, "AuthType").toLowerCase() !== "md5") {
    await session.write(formatError(actionId, "Must specify AuthType"));
    return "keep";
  }
  session.challenge ??= String(randomInt(1, 2 ** 31 - 1));
  await session.write(formatResponse("Success", actionId, ["Challenge", session.challenge]));
  return "keep";
};

const ping: ActionHandler = async (session, headers) => {
  await session.write(
    formatResponse(
      "Success",
      actionHeader(headers, "ActionID"),
      ["Ping", "Pong"],
      ["Timestamp", formatAmiTimestamp(nowMicros())],
    ),
  );
  return "keep";
};

const events: ActionHandler = async (session, headers) => {
  const actionId = actionHeader(headers, "ActionID");
  const mask = parseEventMask(actionHeader(headers, "EventMask"));
  if (mask < 0) {
    await session.write(formatError(actionId, "Invalid event mask"));
    return "keep";
  }
  session.eventMask = mask;
  await session.write(formatResponse("Success", actionId, ["Events", mask > 0 ? "On" : "Off"]));
  return "keep";
};

const extensionState: ActionHandler = async (session, headers, deps) => {
  const actionId = actionHeader(headers, "ActionID");
  const exten = actionHeader(headers, "Exten");
  if (exten === "") {
    await session.write(formatError(actionId, "Extension not specified"));
    return "keep";
  }
  const context = actionHeader(headers, "Context") || "default";
  const state = deps.extensionStates.status(exten, context);
  await session.write(
    formatResponse(
      "Success",
      actionId,
      ["Message", "Extension Status"],
      ["Exten", exten],
      ["Context", context],
      ["Hint", state.hint],
      ["Status", String(state.status)],
      ["StatusText", state.statusText],
    ),
  );
  return "keep";
};

// main/manager.c action_coresettings, with the recorded PBX's values (no limits set, CDR on, HTTP off).
const coreSettings: ActionHandler = async (session, headers) => {
  await session.write(
    formatResponse(
      "Success",
      actionHeader(headers, "ActionID"),
      ["AMIversion", AMI_VERSION],
      ["AsteriskVersion", ASTERISK_VERSION],
      ["SystemName", ""],
      ["CoreMaxCalls", "0"],
      ["CoreMaxLoadAvg", "0.000000"],
      ["CoreRunUser", ""],
      ["CoreRunGroup", ""],
      ["CoreMaxFilehandles", "0"],
      ["CoreRealTimeEnabled", "No"],
      ["CoreCDRenabled", "Yes"],
      ["CoreHTTPenabled", "No"],
      ["SoundsSearchCustomDir", "No"],
    ),
  );
  return "keep";
};

const originate: ActionHandler = async (session, headers, deps) => {
  if (actionHeader(headers, "Application") !== "") return originateApplication(session, headers, deps.calls);
  const actionId = actionHeader(headers, "ActionID");
  const parsed = parseOriginate(headers);
  if (!parsed.ok) {
    if (parsed.unsupported) deps.logger.warn({ session: session.id }, `simulator cannot play: ${parsed.unsupported}`);
    await session.write(formatError(actionId, parsed.message));
    return "keep";
  }
  if (parsed.request.async) {
    await session.write(formatAck(actionId, "Originate successfully queued"));
    deps.originate(parsed.request).catch((error: unknown) => deps.logger.error({ err: error }, "originate failed"));
    return "keep";
  }
  // A synchronous Originate holds the session until the call is answered or fails, then answers.
  const { answered } = await deps.originate(parsed.request);
  await session.write(
    answered ? formatAck(actionId, "Originate successfully queued") : formatError(actionId, "Originate failed"),
  );
  return "keep";
};

/** `EventList: start` … a list's items … its complete event, as astman_send_listack and astman_send_list_complete do. */
function eventList(
  actionId: string,
  message: string,
  items: ReadonlyArray<ReadonlyArray<readonly [string, string]>>,
  complete: string,
): string {
  const id = actionId === "" ? [] : [["ActionID", actionId] as const];
  let text = formatResponse("Success", actionId, ["EventList", "start"], ["Message", message]);
  for (const item of items) text += formatAmiBlock([item[0] ?? ["Event", ""], ...id, ...item.slice(1)]);
  text += formatAmiBlock([["Event", complete], ...id, ["EventList", "Complete"], ["ListItems", String(items.length)]]);
  return text;
}

const hhmmss = (us: number) => {
  const total = Math.max(0, Math.floor(us / 1_000_000));
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor(total / 60) % 60)}:${pad(total % 60)}`;
};

// main/manager.c action_coreshowchannels: each channel's state lines, then its application, age and bridge.
const coreShowChannels: ActionHandler = async (session, headers, deps) => {
  const now = nowMicros();
  const items = deps.calls.channels.all().map((channel) => [
    ["Event", "CoreShowChannel"] as const,
    ...channel.lines,
    // A dialed channel runs no dialplan: Asterisk shows app_dial's placeholder (as its CEL events do).
    ["Application", channel.application || "AppDial"] as const,
    ["ApplicationData", channel.application ? channel.applicationData : "(Outgoing Line)"] as const,
    ["Duration", hhmmss(now - channel.createdUs)] as const,
    ["BridgeId", channel.bridgeId] as const,
  ]);
  await session.write(
    eventList(actionHeader(headers, "ActionID"), "Channels will follow", items, "CoreShowChannelsComplete"),
  );
  return "keep";
};

// main/manager.c action_extensionstatelist: one ExtensionStatus per hint.
const extensionStateList: ActionHandler = async (session, headers, deps) => {
  const items = deps.extensionStates
    .list()
    .map((state) => [
      ["Event", "ExtensionStatus"] as const,
      ["Exten", state.exten] as const,
      ["Context", state.context] as const,
      ["Hint", state.hint] as const,
      ["Status", String(state.status)] as const,
      ["StatusText", state.statusText] as const,
    ]);
  await session.write(
    eventList(actionHeader(headers, "ActionID"), "Extension Statuses will follow", items, "ExtensionStateListComplete"),
  );
  return "keep";
};

/** The actions the simulator implements, by lower-case name; Login, Logoff and Challenge work before login. */
const HANDLERS: ReadonlyMap<string, ActionHandler> = new Map([
  ["login", login],
  ["logoff", logoff],
  ["challenge", challenge],
  ["ping", ping],
  ["events", events],
  ["extensionstate", extensionState],
  ["coresettings", coreSettings],
  ["originate", originate],
  ["coreshowchannels", coreShowChannels],
  ["extensionstatelist", extensionStateList],
]);
const BEFORE_LOGIN = new Set(["login", "logoff", "challenge"]);

/** Runs one client message as main/manager.c do_message/process_message does, with the same error texts. */
export async function handleClientMessage(
  session: AmiSession,
  message: RawClientMessage,
  deps: ActionDeps,
): Promise<MessageOutcome> {
  const { headers } = message;
  const actionId = actionHeader(headers, "ActionID");
  if (message.problem) {
    const text =
      message.problem === "too-many-lines"
        ? "Too many lines in message or allocation failure"
        : "Failed to parse message: line too long";
    deps.logger.warn({ session: session.id, problem: message.problem }, "bad input from client");
    await session.write(formatError(actionId, text));
    return "keep";
  }
  const action = actionHeader(headers, "Action", true);
  if (action === "") {
    await session.write(formatError(actionId, "Missing action in request"));
    return "keep";
  }
  const name = action.toLowerCase();
  if (!session.authenticated && !BEFORE_LOGIN.has(name)) {
    await session.write(formatError(actionId, "Permission denied"));
    return "keep";
  }
  const callAction = CALL_ACTION_HANDLERS.get(name);
  if (callAction) return callAction(session, headers, deps.calls);
  const handler = HANDLERS.get(name);
  if (!handler) {
    await session.write(
      formatError(actionId, `Invalid/unknown command: ${action}. Use Action: ListCommands to show available commands.`),
    );
    return "keep";
  }
  return handler(session, headers, deps);
}
