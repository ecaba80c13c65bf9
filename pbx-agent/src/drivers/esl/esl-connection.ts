import { connect, type Socket } from "node:net";
import type { Logger } from "@callmesh/platform/logging.js";
import type { Registry } from "@callmesh/platform/metrics.js";
import { createListenerFanOut, type ListenerFanOut } from "../listener-fan-out.js";
import { createReconnectLoop, type ReconnectLoop } from "../reconnect-loop.js";
import type { EslCallTracker } from "./esl-call-tracker.js";
import { classifyEslSocketError, EslError } from "./esl-error.js";
import type { EslEvent } from "./esl-event.js";
import type { EslMessage } from "./esl-message.js";
import { createEslSessionNormalizer } from "./esl-normalizer.js";

export interface EslConnectionOptions {
  host: string;
  port: number;
  password: string;
  logger: Logger;
  /** The tracker every session feeds (kept across reconnects). */
  tracker: EslCallTracker;
  metrics?: Registry;
  /** `event plain ALL` (default) or `event json ALL`. */
  eventFormat?: "plain" | "json";
  /** TCP connect, auth and subscription together; default 10 s. */
  connectTimeoutMs?: number;
  /** Default wait for a command's reply; default 10 s. */
  commandTimeoutMs?: number;
  /** An `api status` this often proves the session alive (0: never); default 20 s. */
  pingIntervalMs?: number;
  /** Reconnect backoff: first delay and cap, full jitter; defaults 500 ms and 30 s. */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /** Events the tracker does not take that onEvent listeners get (PRESENCE_IN). */
  alsoWants?: ReadonlySet<string>;
}

/** A command's reply: `Reply-Text` of a command/reply, or the text of an api/response. */
export interface EslReply {
  type: "command_reply" | "api_response";
  text: string;
  jobUuid: string;
}

export interface EslConnectionStats {
  sessions: number;
  /** Replies no command was waiting for (late after a timeout, or a capture's own). */
  unmatchedReplies: number;
}

/**
 * One inbound event-socket session, kept alive: connects, answers `auth/request` with
 * `auth <password>`, subscribes to every event, pings, and reconnects with exponential
 * backoff and full jitter whenever the session drops or auth fails, until stop().
 * Replies come back in the order commands were sent, so in-flight commands are a queue.
 */
export interface EslConnection {
  readonly connected: boolean;
  readonly stats: Readonly<EslConnectionStats>;
  start(): void;
  /** Sends `exit`, closes, and stops reconnecting. */
  stop(): Promise<void>;
  /**
   * Sends a command (`api …`, `bgapi …` with optional extra header lines) and resolves
   * with its reply. Rejects with an EslError: unavailable when not connected, deadline
   * after the timeout, aborted when the session drops first.
   */
  send(command: string, options?: { headers?: Record<string, string>; timeoutMs?: number }): Promise<EslReply>;
  /** Every BACKGROUND_JOB, from every session. */
  onBackgroundJob(listener: (event: EslEvent) => void): void;
  /** Every event named in `options.alsoWants` (presence), from every session. */
  onEvent(listener: (event: EslEvent) => void): void;
  onConnectionChange(listener: (connected: boolean) => void): void;
}

export function createEslConnection(options: EslConnectionOptions): EslConnection {
  return new KeptConnection(options);
}

class KeptConnection implements EslConnection {
  readonly stats: EslConnectionStats = { sessions: 0, unmatchedReplies: 0 };
  readonly #options: EslConnectionOptions;
  readonly #loop: ReconnectLoop<Session>;
  readonly #jobListeners: ListenerFanOut<EslEvent>;
  readonly #eventListeners: ListenerFanOut<EslEvent>;

  constructor(options: EslConnectionOptions) {
    this.#options = options;
    this.#eventListeners = createListenerFanOut({
      logger: options.logger,
      failureMessage: "ESL event listener failed",
    });
    this.#jobListeners = createListenerFanOut({
      logger: options.logger,
      failureMessage: "BACKGROUND_JOB listener failed",
    });
    this.#loop = createReconnectLoop({
      host: options.host,
      port: options.port,
      logger: options.logger,
      connectTimeoutMs: options.connectTimeoutMs,
      reconnectDelayMs: options.reconnectDelayMs,
      maxReconnectDelayMs: options.maxReconnectDelayMs,
      protocol: "ESL",
      errorClass: EslError,
      stats: this.stats,
      messages: {
        refused: "ESL auth refused; retrying",
        connectFailed: "ESL connect failed; retrying",
        loggedIn: "ESL logged in",
        lost: "ESL session lost; reconnecting",
        listenerFailed: "ESL connection listener failed",
      },
      connect: () =>
        new Session(options, {
          onJob: (event) => this.#jobListeners.emit(event),
          onEvent: (event) => {
            if (options.alsoWants?.has(event.name)) this.#eventListeners.emit(event);
          },
          onUnmatched: () => this.stats.unmatchedReplies++,
        }),
      login: (session, timeoutMs) => this.#login(session, timeoutMs),
      goodbye: (session) => session.request("exit", {}, 1000),
    });
  }

  get connected(): boolean {
    return this.#loop.session !== undefined;
  }

  start(): void {
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  send(command: string, options: { headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<EslReply> {
    const session = this.#loop.session;
    if (session === undefined) return Promise.reject(new EslError("unavailable", "not connected to FreeSWITCH"));
    return session.request(
      command,
      options.headers ?? {},
      options.timeoutMs ?? this.#options.commandTimeoutMs ?? 10_000,
    );
  }

  onBackgroundJob(listener: (event: EslEvent) => void): void {
    this.#jobListeners.add(listener);
  }

  onEvent(listener: (event: EslEvent) => void): void {
    this.#eventListeners.add(listener);
  }

  onConnectionChange(listener: (connected: boolean) => void): void {
    this.#loop.onConnectionChange(listener);
  }

  /** Authenticates, subscribes, starts the pings. */
  async #login(session: Session, timeoutMs: number): Promise<void> {
    const options = this.#options;
    const closed = session.closed.then((reason) => Promise.reject(reason));
    await Promise.race([session.authRequested, closed]);
    const auth = await Promise.race([session.request(`auth ${options.password}`, {}, timeoutMs), closed]);
    if (!auth.text.startsWith("+OK")) throw new EslError("unauthenticated", `ESL auth refused: ${auth.text.trim()}`);
    // What comes from now on waits until the driver has asked FreeSWITCH what it has (recovery).
    options.tracker.beginRecovery();
    const format = options.eventFormat ?? "plain";
    const subscribed = await Promise.race([session.request(`event ${format} ALL`, {}, timeoutMs), closed]);
    if (!subscribed.text.startsWith("+OK"))
      throw new EslError("unavailable", `event subscription refused: ${subscribed.text}`);
    session.startKeepalive(options.pingIntervalMs ?? 20_000);
  }
}

interface SessionHooks {
  onJob(event: EslEvent): void;
  onEvent(event: EslEvent): void;
  onUnmatched(): void;
}

interface Waiting {
  resolve(reply: EslReply): void;
  reject(error: EslError): void;
  timer: NodeJS.Timeout;
  /** Timed out: its reply will still come, and must be skipped, not given to the next command. */
  abandoned: boolean;
}

/** One TCP socket, its normalizer, and its commands waiting for replies, in order. */
class Session {
  readonly closed: Promise<EslError>;
  readonly authRequested: Promise<void>;
  readonly #socket: Socket;
  readonly #waiting: Waiting[] = [];
  #closeReason: EslError | undefined;
  #keepalive: NodeJS.Timeout | undefined;

  constructor(options: EslConnectionOptions, hooks: SessionHooks) {
    let authSeen: () => void = () => undefined;
    this.authRequested = new Promise((resolve) => {
      authSeen = resolve;
    });
    // The shared tracker carries the agent id and the output listener; these two are unused.
    const normalizer = createEslSessionNormalizer({
      agentId: "",
      onOutput: () => undefined,
      tracker: options.tracker,
      logger: options.logger,
      metrics: options.metrics,
      ...(options.alsoWants === undefined ? {} : { alsoWants: options.alsoWants }),
      onMessage: (message) => this.#onMessage(message, authSeen, hooks),
    });
    const socket = connect({ host: options.host, port: options.port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.on("data", (chunk: Buffer) => normalizer.push(chunk));
    socket.on("error", (error) => {
      this.#closeReason ??= classifyEslSocketError(error, `ESL socket ${options.host}:${options.port}`);
    });
    this.#socket = socket;
    this.closed = new Promise((resolve) => {
      socket.on("close", () => {
        // A session that ends takes its calls' last hangups with it: they end now.
        normalizer.end();
        if (this.#keepalive !== undefined) clearInterval(this.#keepalive);
        const reason = this.#closeReason ?? new EslError("aborted", "FreeSWITCH closed the event socket");
        for (const waiting of this.#waiting.splice(0)) {
          clearTimeout(waiting.timer);
          if (!waiting.abandoned) waiting.reject(new EslError(reason.code, reason.message, { cause: reason }));
        }
        resolve(reason);
      });
    });
  }

  request(command: string, headers: Record<string, string>, timeoutMs: number): Promise<EslReply> {
    if (this.#closeReason !== undefined || this.#socket.destroyed) {
      return Promise.reject(new EslError("unavailable", "not connected to FreeSWITCH"));
    }
    const lines = [command, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
    if (lines.some((line) => /[\r\n]/.test(line))) {
      return Promise.reject(new EslError("invalid_argument", "an ESL command must not contain a line break"));
    }
    return new Promise((resolve, reject) => {
      const waiting: Waiting = {
        resolve,
        reject,
        abandoned: false,
        timer: setTimeout(() => {
          waiting.abandoned = true;
          reject(new EslError("deadline", `no reply to ${command.split(" ")[0]} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.#waiting.push(waiting);
      this.#socket.write(`${lines.join("\n")}\n\n`);
    });
  }

  /** `api status` every `intervalMs`; an unanswered one means a dead peer: the socket is closed. */
  startKeepalive(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.#keepalive = setInterval(() => {
      this.request("api status", {}, intervalMs).catch((error: unknown) => {
        if (error instanceof EslError && error.code === "deadline") {
          this.destroy(new EslError("deadline", `keepalive unanswered for ${intervalMs} ms`));
        }
      });
    }, intervalMs);
    this.#keepalive.unref();
  }

  destroy(reason: EslError): void {
    this.#closeReason ??= reason;
    this.#socket.destroy();
  }

  #onMessage(message: EslMessage, authSeen: () => void, hooks: SessionHooks): void {
    switch (message.type) {
      case "auth_request":
        authSeen();
        return;
      case "command_reply":
        this.#settle({ type: "command_reply", text: message.replyText, jobUuid: message.jobUuid }, hooks);
        return;
      case "api_response":
        this.#settle({ type: "api_response", text: message.text, jobUuid: "" }, hooks);
        return;
      case "rude_rejection":
        this.destroy(new EslError("unauthenticated", `FreeSWITCH refused the connection: ${message.text.trim()}`));
        return;
      case "disconnect_notice":
        this.#closeReason ??= new EslError("aborted", `FreeSWITCH disconnected: ${message.text.trim()}`);
        return;
      case "event":
        if (message.event.name === "BACKGROUND_JOB") hooks.onJob(message.event);
        else hooks.onEvent(message.event);
        return;
    }
  }

  #settle(reply: EslReply, hooks: { onUnmatched(): void }): void {
    const waiting = this.#waiting.shift();
    if (waiting === undefined) {
      hooks.onUnmatched();
      return;
    }
    clearTimeout(waiting.timer);
    if (!waiting.abandoned) waiting.resolve(reply);
  }
}
