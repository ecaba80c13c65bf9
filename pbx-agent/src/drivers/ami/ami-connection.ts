import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import type { Logger } from "@callmesh/platform/logging.js";
import { createListenerFanOut, type ListenerFanOut } from "../listener-fan-out.js";
import { createReconnectLoop, type ReconnectLoop } from "../reconnect-loop.js";
import { type AmiActionFields, formatAmiAction } from "./ami-action.js";
import { AmiError, classifySocketError } from "./ami-error.js";
import type { AmiMessage } from "./ami-message.js";
import { type AmiParserStats, createAmiParser, createParserStats } from "./ami-parser.js";

export interface AmiConnectionOptions {
  host: string;
  port: number;
  username: string;
  secret: string;
  logger: Logger;
  /** TCP connect, banner and login together; default 10 s. */
  connectTimeoutMs?: number;
  /** Default wait for an action's response; default 10 s. */
  actionTimeoutMs?: number;
  /** A `Ping` this often proves the session alive (0: never); default 20 s. */
  pingIntervalMs?: number;
  /** Reconnect backoff: first delay and cap, full jitter; defaults 500 ms and 30 s. */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
}

export interface AmiConnectionStats {
  /** Sessions that logged in. */
  sessions: number;
  /** Responses whose ActionID matched nothing in flight (late after a timeout, or not ours). */
  unmatchedResponses: number;
  /** Framing garbage over every session so far. */
  parser: AmiParserStats;
}

/**
 * One AMI session, kept alive: connects, reads the banner, logs in (plain
 * Username/Secret, `Events: on`), pings, and reconnects with exponential backoff and
 * full jitter whenever the session drops or the login fails, until stop().
 */
export interface AmiConnection {
  /** Logged in right now. */
  readonly connected: boolean;
  /** The `Asterisk Call Manager/x.y.z` line of the current session, "" before one. */
  readonly banner: string;
  readonly stats: Readonly<AmiConnectionStats>;
  start(): void;
  /** Logs off, closes, and stops reconnecting. */
  stop(): Promise<void>;
  /**
   * Sends an action and resolves with its response (Success or Error alike), matched by
   * a generated ActionID. Rejects with an AmiError: unavailable when not logged in,
   * deadline after the timeout, aborted when the session drops first.
   */
  sendAction(action: string, fields?: AmiActionFields, options?: { timeoutMs?: number }): Promise<AmiMessage>;
  /**
   * Sends an action that answers with an event list (`EventList: start` … `<completeEvent>`,
   * e.g. CoreShowChannels → CoreShowChannelsComplete) and resolves with its response and the
   * list's items. The items are the action's alone: they reach no onEvent listener. A refused
   * action resolves with its response and no items. Rejects as sendAction does.
   */
  sendListAction(
    action: string,
    completeEvent: string,
    fields?: AmiActionFields,
    options?: { timeoutMs?: number },
  ): Promise<{ response: AmiMessage; items: AmiMessage[] }>;
  /** Every event, in order, from every session. */
  onEvent(listener: (event: AmiMessage) => void): void;
  /** Logged in (true) or lost (false). */
  onConnectionChange(listener: (connected: boolean) => void): void;
}

export function createAmiConnection(options: AmiConnectionOptions): AmiConnection {
  return new KeptConnection(options);
}

interface InFlight {
  resolve(response: AmiMessage): void;
  reject(error: AmiError): void;
  timer: NodeJS.Timeout;
}

class KeptConnection implements AmiConnection {
  readonly stats: AmiConnectionStats = {
    sessions: 0,
    unmatchedResponses: 0,
    parser: createParserStats(),
  };
  readonly #options: AmiConnectionOptions;
  readonly #log: Logger;
  readonly #loop: ReconnectLoop<Session>;
  readonly #eventListeners: ListenerFanOut<AmiMessage>;
  readonly #actionIdPrefix = `cm-${randomBytes(4).toString("hex")}-`;
  #actionCounter = 0;

  constructor(options: AmiConnectionOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.#eventListeners = createListenerFanOut({
      logger: this.#log,
      failureMessage: "AMI event listener failed",
      logFields: (event) => ({ event: event.event }),
    });
    this.#loop = createReconnectLoop({
      host: options.host,
      port: options.port,
      logger: options.logger,
      connectTimeoutMs: options.connectTimeoutMs,
      reconnectDelayMs: options.reconnectDelayMs,
      maxReconnectDelayMs: options.maxReconnectDelayMs,
      protocol: "AMI",
      errorClass: AmiError,
      stats: this.stats,
      messages: {
        refused: "AMI login refused; retrying",
        connectFailed: "AMI connect failed; retrying",
        loggedIn: "AMI logged in",
        lost: "AMI session lost; reconnecting",
        listenerFailed: "AMI connection listener failed",
      },
      loggedInFields: (session) => ({ banner: session.banner }),
      connect: () => this.#connect(),
      login: (session, timeoutMs) => this.#login(session, timeoutMs),
      goodbye: (session) => this.#send(session, "Logoff", {}, 1000),
    });
  }

  get connected(): boolean {
    return this.#loop.session !== undefined;
  }

  get banner(): string {
    return this.#loop.session?.banner ?? "";
  }

  start(): void {
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  sendAction(action: string, fields?: AmiActionFields, options: { timeoutMs?: number } = {}): Promise<AmiMessage> {
    const session = this.#loop.session;
    if (session === undefined) return Promise.reject(new AmiError("unavailable", "not connected to the PBX"));
    return this.#send(session, action, fields, options.timeoutMs ?? this.#options.actionTimeoutMs ?? 10_000);
  }

  async sendListAction(
    action: string,
    completeEvent: string,
    fields?: AmiActionFields,
    options: { timeoutMs?: number } = {},
  ): Promise<{ response: AmiMessage; items: AmiMessage[] }> {
    const session = this.#loop.session;
    if (session === undefined) throw new AmiError("unavailable", "not connected to the PBX");
    const actionId = `${this.#actionIdPrefix}${++this.#actionCounter}`;
    const timeoutMs = options.timeoutMs ?? this.#options.actionTimeoutMs ?? 10_000;
    const list = session.collectList(actionId, completeEvent, timeoutMs, action);
    try {
      const response = await session.request(actionId, formatAmiAction(action, actionId, fields), timeoutMs, action);
      if (response.response !== "Success") return { response, items: [] };
      return { response, items: await list.items };
    } finally {
      list.cancel();
    }
  }

  onEvent(listener: (event: AmiMessage) => void): void {
    this.#eventListeners.add(listener);
  }

  onConnectionChange(listener: (connected: boolean) => void): void {
    this.#loop.onConnectionChange(listener);
  }

  #connect(): Session {
    return new Session(this.#options, this.stats, {
      onEvent: (event) => this.#eventListeners.emit(event),
      onUnmatched: (response) => {
        this.stats.unmatchedResponses++;
        this.#log.debug({ actionId: response.get("ActionID") }, "AMI response for no pending action");
      },
      onParserError: (error) => this.#log.error({ err: error }, "AMI event listener failed"),
    });
  }

  /** Reads the banner, logs in, starts the pings. */
  async #login(session: Session, timeoutMs: number): Promise<void> {
    const options = this.#options;
    await Promise.race([session.bannerReceived, session.closed.then((reason) => Promise.reject(reason))]);
    const login = await Promise.race([
      this.#send(session, "Login", { Username: options.username, Secret: options.secret, Events: "on" }, timeoutMs),
      session.closed.then((reason) => Promise.reject(reason)),
    ]);
    if (login.response !== "Success") {
      throw new AmiError("unauthenticated", `AMI login refused: ${login.get("Message") ?? login.response ?? ""}`);
    }
    session.startKeepalive(options.pingIntervalMs ?? 20_000, (timeoutMs) => this.#send(session, "Ping", {}, timeoutMs));
  }

  #send(session: Session, action: string, fields: AmiActionFields | undefined, timeoutMs: number): Promise<AmiMessage> {
    const actionId = `${this.#actionIdPrefix}${++this.#actionCounter}`;
    let text: string;
    try {
      text = formatAmiAction(action, actionId, fields);
    } catch (error) {
      return Promise.reject(error);
    }
    return session.request(actionId, text, timeoutMs, action);
  }
}

interface SessionHooks {
  onEvent(event: AmiMessage): void;
  onUnmatched(response: AmiMessage): void;
  onParserError(error: unknown): void;
}

/** One TCP socket and its in-flight actions. */
class Session {
  banner = "";
  /** Resolves, never rejects, with why the socket closed. */
  readonly closed: Promise<AmiError>;
  readonly bannerReceived: Promise<void>;
  readonly #socket: Socket;
  readonly #inFlight = new Map<string, InFlight>();
  /** Event lists being collected, by the ActionID of the action that asked for them. */
  readonly #lists = new Map<string, { complete: string; items: AmiMessage[]; done(): void }>();
  #closeReason: AmiError | undefined;
  #keepalive: NodeJS.Timeout | undefined;

  constructor(options: AmiConnectionOptions, stats: AmiConnectionStats, hooks: SessionHooks) {
    let bannerSeen: () => void = () => undefined;
    this.bannerReceived = new Promise((resolve) => {
      bannerSeen = resolve;
    });
    const parser = createAmiParser({
      onBanner: (banner) => {
        this.banner = banner;
        bannerSeen();
      },
      onMessage: (message) => {
        // A server that skips the banner still gets its login.
        bannerSeen();
        if (message.event === undefined) this.#settle(message, hooks);
        else if (!this.#collect(message)) hooks.onEvent(message);
      },
      onListenerError: hooks.onParserError,
    });
    const socket = connect({ host: options.host, port: options.port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.on("data", (chunk: Buffer) => parser.push(chunk));
    socket.on("error", (error) => {
      this.#closeReason ??= classifySocketError(error, `AMI socket ${options.host}:${options.port}`);
    });
    this.#socket = socket;
    this.closed = new Promise((resolve) => {
      socket.on("close", () => {
        parser.end();
        addStats(stats.parser, parser.stats);
        if (this.#keepalive !== undefined) clearInterval(this.#keepalive);
        const reason = this.#closeReason ?? new AmiError("aborted", "the PBX closed the AMI connection");
        for (const [actionId, inFlight] of this.#inFlight) {
          clearTimeout(inFlight.timer);
          inFlight.reject(new AmiError(reason.code, reason.message, { cause: reason }));
          this.#inFlight.delete(actionId);
        }
        resolve(reason);
      });
    });
  }

  request(actionId: string, text: string, timeoutMs: number, action: string): Promise<AmiMessage> {
    if (this.#closeReason !== undefined || this.#socket.destroyed) {
      return Promise.reject(new AmiError("unavailable", "not connected to the PBX"));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#inFlight.delete(actionId);
        reject(new AmiError("deadline", `no response to ${action} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#inFlight.set(actionId, { resolve, reject, timer });
      this.#socket.write(text);
    });
  }

  /** Starts collecting the event list of `actionId`; `items` rejects when the session closes or time runs out. */
  collectList(
    actionId: string,
    complete: string,
    timeoutMs: number,
    action: string,
  ): { items: Promise<AmiMessage[]>; cancel(): void } {
    let timer: NodeJS.Timeout | undefined;
    const items = new Promise<AmiMessage[]>((resolve, reject) => {
      const collected: AmiMessage[] = [];
      timer = setTimeout(() => {
        this.#lists.delete(actionId);
        reject(new AmiError("deadline", `${action} list not complete within ${timeoutMs} ms`));
      }, timeoutMs);
      this.closed.then((reason) => reject(new AmiError(reason.code, reason.message, { cause: reason })));
      this.#lists.set(actionId, {
        complete,
        items: collected,
        done: () => resolve(collected),
      });
    });
    // A list nobody awaits (the action was refused) must not reject unhandled.
    items.catch(() => undefined);
    return {
      items,
      cancel: () => {
        clearTimeout(timer);
        this.#lists.delete(actionId);
      },
    };
  }

  /** An item (or the end) of a list being collected: kept from the event listeners. */
  #collect(message: AmiMessage): boolean {
    if (this.#lists.size === 0) return false;
    const actionId = message.get("ActionID");
    const list = actionId === undefined ? undefined : this.#lists.get(actionId);
    if (list === undefined) return false;
    if (message.event === list.complete) list.done();
    else list.items.push(message);
    return true;
  }

  /** Pings every `intervalMs`; an unanswered ping means a dead peer: the socket is closed. */
  startKeepalive(intervalMs: number, ping: (timeoutMs: number) => Promise<AmiMessage>): void {
    if (intervalMs <= 0) return;
    this.#keepalive = setInterval(() => {
      ping(intervalMs).catch((error: unknown) => {
        if (error instanceof AmiError && error.code === "deadline") {
          this.destroy(new AmiError("deadline", `keepalive Ping unanswered for ${intervalMs} ms`));
        }
      });
    }, intervalMs);
    this.#keepalive.unref();
  }

  destroy(reason: AmiError): void {
    this.#closeReason ??= reason;
    this.#socket.destroy();
  }

  #settle(response: AmiMessage, hooks: SessionHooks): void {
    const actionId = response.get("ActionID");
    const inFlight = actionId === undefined ? undefined : this.#inFlight.get(actionId);
    if (actionId === undefined || inFlight === undefined) {
      hooks.onUnmatched(response);
      return;
    }
    this.#inFlight.delete(actionId);
    clearTimeout(inFlight.timer);
    inFlight.resolve(response);
  }
}

function addStats(total: AmiParserStats, session: Readonly<AmiParserStats>): void {
  for (const key of Object.keys(total) as (keyof AmiParserStats)[]) total[key] += session[key];
}
