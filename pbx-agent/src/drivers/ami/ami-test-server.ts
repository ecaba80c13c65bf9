import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { readCapture } from "./ami-capture-fixture.js";

/** An action the server received, as the client wrote it. */
export interface ReceivedAction {
  name: string;
  actionId: string;
  fields: [string, string][];
  get(key: string): string | undefined;
  getAll(key: string): string[];
}

/** What to answer: text to write back, or undefined to stay silent. */
export type ActionResponder = (action: ReceivedAction, socket: Socket) => string | undefined;

/**
 * A tiny AMI server for tests, on 127.0.0.1 and a free port. It speaks with the bytes of
 * a real Asterisk 20 capture (banner, login and Originate responses, the call's events),
 * swapping in the client's ActionIDs.
 */
export interface FakeAmiServer {
  readonly port: number;
  readonly actions: ReceivedAction[];
  /** Sockets currently open. */
  readonly sockets: ReadonlySet<Socket>;
  /** How many connections were accepted so far. */
  readonly accepted: number;
  /** Replaces the answer to one action name. */
  respond(action: string, responder: ActionResponder): void;
  /** Writes to every open socket. */
  push(text: string | Buffer): void;
  /** Drops every open socket, as a crashing PBX would. */
  dropAll(): void;
  /** Resolves once `count` connections were accepted in total. */
  waitForConnection(count: number): Promise<void>;
  /** Resolves with the next action named `name` (or one already received and not yet awaited). */
  nextAction(name: string): Promise<ReceivedAction>;
  close(): Promise<void>;
}

export const USERNAME = "callmesh";
export const SECRET = "s3cret";

/** The parts of the real click-to-call capture the server replays. */
export const CLICK_TO_CALL = splitCapture("ast-real-16p-click-to-call-A.txt");

export function withActionId(block: string, actionId: string): string {
  return block.replace(/^ActionID: .*$/m, `ActionID: ${actionId}`);
}

export async function startFakeAmiServer(): Promise<FakeAmiServer> {
  const responders = new Map<string, ActionResponder>([
    [
      "login",
      (action) =>
        action.get("Username") === USERNAME && action.get("Secret") === SECRET
          ? withActionId(CLICK_TO_CALL.loginResponse, action.actionId) + CLICK_TO_CALL.afterLogin
          : withActionId(LOGIN_FAILED, action.actionId),
    ],
    [
      "ping",
      (action) =>
        `Response: Success\r\nActionID: ${action.actionId}\r\nPing: Pong\r\nTimestamp: 1796124988.000000\r\n\r\n`,
    ],
    [
      "logoff",
      (action, socket) => {
        socket.end(`Response: Goodbye\r\nActionID: ${action.actionId}\r\nMessage: Thanks for all the fish.\r\n\r\n`);
        return undefined;
      },
    ],
  ]);
  const actions: ReceivedAction[] = [];
  const sockets = new Set<Socket>();
  const waiters: { name: string; resolve: (action: ReceivedAction) => void }[] = [];
  const unclaimed: ReceivedAction[] = [];
  const connectionWaiters: { count: number; resolve: () => void }[] = [];
  let accepted = 0;

  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    for (const waiter of connectionWaiters.filter((entry) => entry.count <= accepted)) {
      connectionWaiters.splice(connectionWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    socket.write(CLICK_TO_CALL.banner);
    let buffer = "";
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      for (let end = buffer.indexOf("\r\n\r\n"); end >= 0; end = buffer.indexOf("\r\n\r\n")) {
        const action = parseAction(buffer.slice(0, end));
        buffer = buffer.slice(end + 4);
        actions.push(action);
        const answer = responders.get(action.name.toLowerCase())?.(action, socket);
        if (answer !== undefined && !socket.destroyed) socket.write(answer);
        const waiter = waiters.find((entry) => entry.name === action.name.toLowerCase());
        if (waiter) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(action);
        } else unclaimed.push(action);
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");

  return {
    port: address.port,
    actions,
    sockets,
    get accepted() {
      return accepted;
    },
    respond: (action, responder) => responders.set(action.toLowerCase(), responder),
    push: (text) => {
      for (const socket of sockets) socket.write(text);
    },
    dropAll: () => {
      for (const socket of sockets) socket.destroy();
    },
    waitForConnection: (count) =>
      accepted >= count ? Promise.resolve() : new Promise((resolve) => connectionWaiters.push({ count, resolve })),
    nextAction: (name) => {
      const found = unclaimed.find((action) => action.name.toLowerCase() === name.toLowerCase());
      if (found) {
        unclaimed.splice(unclaimed.indexOf(found), 1);
        return Promise.resolve(found);
      }
      return new Promise((resolve) => waiters.push({ name: name.toLowerCase(), resolve }));
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function parseAction(block: string): ReceivedAction {
  const fields = block.split("\r\n").map((line): [string, string] => {
    const colon = line.indexOf(": ");
    return colon < 0 ? [line, ""] : [line.slice(0, colon), line.slice(colon + 2)];
  });
  const getAll = (key: string) =>
    fields.filter(([name]) => name.toLowerCase() === key.toLowerCase()).map(([, value]) => value);
  const get = (key: string) => getAll(key)[0];
  return { name: get("Action") ?? "", actionId: get("ActionID") ?? "", fields, get, getAll };
}

/** The Error block of the panoramisk login-failed fixture (LF there; CRLF on the wire). */
const LOGIN_FAILED = (() => {
  const text = readCapture("ami-login-failed.txt").toString("utf8").replace(/\r?\n/g, "\r\n");
  return text.slice(text.indexOf("Response: Error"));
})();

function splitCapture(name: string) {
  const text = readCapture(name).toString("utf8");
  const bannerEnd = text.indexOf("\r\n") + 2;
  const blocks = text.slice(bannerEnd).split(/(?<=\r\n\r\n)/);
  const originateIndex = blocks.findIndex((block) => block.includes("Message: Originate successfully queued"));
  return {
    banner: text.slice(0, bannerEnd),
    loginResponse: blocks[0] ?? "",
    /** FullyBooted and SuccessfulAuth, as Asterisk sends them right after the login. */
    afterLogin: blocks.slice(1, originateIndex).join(""),
    originateResponse: blocks[originateIndex] ?? "",
    /** The call's events, from the first Newchannel to the last DeviceStateChange. */
    callEvents: blocks.slice(originateIndex + 1).join(""),
  };
}

/** Polls `condition` every 5 ms; rejects naming `what` after `timeoutMs`. */
export function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 5);
    };
    poll();
  });
}
