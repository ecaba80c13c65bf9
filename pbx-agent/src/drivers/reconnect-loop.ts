import type { Logger } from "@callmesh/platform/logging.js";
import { backOff } from "exponential-backoff";
import { createListenerFanOut, type ListenerFanOut } from "./listener-fan-out.js";
import { classifySocketFailure, type PbxError, type PbxErrorClass, type PbxErrorCode } from "./pbx-error.js";

/** One socket to the PBX, as the loop sees it. */
export interface ReconnectSession<E extends PbxError> {
  /** Resolves, never rejects, with why the socket closed. */
  readonly closed: Promise<E>;
  /** Closes the socket; `reason` becomes `closed`'s unless it had one already. */
  destroy(reason: E): void;
}

/** The log lines of one driver, kept literal in each driver so that people and tests can grep them. */
export interface ReconnectLogMessages {
  /** warn, an attempt failed with unauthenticated: "AMI login refused; retrying". */
  refused: string;
  /** warn, an attempt failed otherwise: "AMI connect failed; retrying". */
  connectFailed: string;
  /** info, a session logged in: "AMI logged in". */
  loggedIn: string;
  /** warn, a session ended while not stopping: "AMI session lost; reconnecting". */
  lost: string;
  /** error, a connection listener threw: "AMI connection listener failed". */
  listenerFailed: string;
}

export interface ReconnectLoopOptions<S extends ReconnectSession<E>, E extends PbxError> {
  host: string;
  port: number;
  logger: Logger;
  /** "AMI", "ESL": starts the texts of the errors the loop makes ("AMI connect: …"). */
  protocol: string;
  /** The driver's error class: what attempts are classified into. */
  errorClass: PbxErrorClass<E>;
  /** TCP connect and login together; default 10 s. */
  connectTimeoutMs?: number;
  /** Backoff: first delay and cap, full jitter; defaults 500 ms and 30 s. */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /** Where `sessions` counts every login. */
  stats: { sessions: number };
  messages: ReconnectLogMessages;
  /** More fields of the "logged in" line (the AMI banner…). */
  loggedInFields?(session: S): Record<string, unknown>;
  /** Opens a socket: a session not logged in yet. */
  connect(): S;
  /** Logs a new session in (banner, auth, subscription, keepalive); may reject with anything. */
  login(session: S, timeoutMs: number): Promise<void>;
  /** Said to the session stop() ends (Logoff, exit), at most 1 s; its failure is ignored. */
  goodbye(session: S): Promise<unknown>;
}

/**
 * A PBX session kept alive: logs in, and whenever the session drops or the login
 * fails, tries again with exponential backoff and full jitter, until stop(). The
 * first attempt after a lost session waits too; a session that stayed up
 * STABLE_SESSION_MS starts the delays over, one that keeps dropping backs off further.
 */
export interface ReconnectLoop<S> {
  /** The logged-in session right now. */
  readonly session: S | undefined;
  start(): void;
  /** Stops reconnecting, says goodbye to the current session and closes it. */
  stop(): Promise<void>;
  /** Logged in (true) or lost (false). */
  onConnectionChange(listener: (connected: boolean) => void): void;
}

export function createReconnectLoop<S extends ReconnectSession<E>, E extends PbxError>(
  options: ReconnectLoopOptions<S, E>,
): ReconnectLoop<S> {
  return new KeptSession(options);
}

/** A session that stayed up this long was healthy: the next reconnect starts from the first delay again. */
const STABLE_SESSION_MS = 10_000;

class KeptSession<S extends ReconnectSession<E>, E extends PbxError> implements ReconnectLoop<S> {
  readonly #options: ReconnectLoopOptions<S, E>;
  readonly #log: Logger;
  readonly #stateListeners: ListenerFanOut<boolean>;
  #session: S | undefined;
  #opening: S | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  /** Bumped by start(): a loop left over from before a stop() ends instead of running twice. */
  #generation = 0;

  constructor(options: ReconnectLoopOptions<S, E>) {
    this.#options = options;
    this.#log = options.logger;
    this.#stateListeners = createListenerFanOut({
      logger: options.logger,
      failureMessage: options.messages.listenerFailed,
    });
  }

  get session(): S | undefined {
    return this.#session;
  }

  start(): void {
    if (this.#running !== undefined) return;
    this.#stopped = false;
    this.#running = this.#run(++this.#generation);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#opening?.destroy(this.#error("aborted", "connection stopped"));
    const session = this.#session;
    if (session !== undefined) {
      await this.#options.goodbye(session).catch(() => undefined);
      session.destroy(this.#error("aborted", "connection stopped"));
    }
    // A backoff delay in progress is not waited for: it ends on its own, without connecting.
    await Promise.race([this.#running, session?.closed]);
    this.#running = undefined;
  }

  onConnectionChange(listener: (connected: boolean) => void): void {
    this.#stateListeners.add(listener);
  }

  async #run(generation: number): Promise<void> {
    const options = this.#options;
    const current = () => !this.#stopped && generation === this.#generation;
    const firstDelay = options.reconnectDelayMs ?? 500;
    const maxDelay = options.maxReconnectDelayMs ?? 30_000;
    let startingDelay = firstDelay;
    let reconnecting = false;
    while (current()) {
      let session: S;
      try {
        session = await backOff(() => (current() ? this.#open() : Promise.reject(this.#error("aborted", "stopped"))), {
          numOfAttempts: Number.POSITIVE_INFINITY,
          startingDelay,
          maxDelay,
          timeMultiple: 2,
          jitter: "full",
          delayFirstAttempt: reconnecting,
          retry: (error: unknown, attempt: number) => {
            if (!current()) return false;
            const failure = this.#classify(error);
            this.#log.warn(
              { err: failure, code: failure.code, attempt, host: options.host, port: options.port },
              failure.code === "unauthenticated" ? options.messages.refused : options.messages.connectFailed,
            );
            return true;
          },
        });
      } catch {
        break;
      }
      if (!current()) {
        session.destroy(this.#error("aborted", "connection stopped"));
        break;
      }
      const since = Date.now();
      this.#session = session;
      options.stats.sessions++;
      this.#log.info(
        { host: options.host, port: options.port, ...options.loggedInFields?.(session) },
        options.messages.loggedIn,
      );
      this.#stateListeners.emit(true);
      const reason = await session.closed;
      this.#session = undefined;
      this.#stateListeners.emit(false);
      if (current()) this.#log.warn({ err: reason, code: reason.code }, options.messages.lost);
      // A session that keeps dropping right after login backs off further each time.
      startingDelay = Date.now() - since >= STABLE_SESSION_MS ? firstDelay : Math.min(startingDelay * 2, maxDelay);
      reconnecting = true;
    }
  }

  /** Connects and logs in; rejects with the driver's error, the socket closed. */
  async #open(): Promise<S> {
    if (this.#stopped) throw this.#error("aborted", "connection stopped");
    const options = this.#options;
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    const session = options.connect();
    this.#opening = session;
    const timer = setTimeout(
      () => session.destroy(this.#error("deadline", `${options.protocol} login not complete after ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      await options.login(session, timeoutMs);
      return session;
    } catch (error) {
      const failure = this.#classify(error);
      session.destroy(failure);
      throw failure;
    } finally {
      clearTimeout(timer);
      this.#opening = undefined;
    }
  }

  #classify(error: unknown): E {
    return classifySocketFailure(this.#options.errorClass, error, `${this.#options.protocol} connect`);
  }

  #error(code: PbxErrorCode, message: string): E {
    return new this.#options.errorClass(code, message);
  }
}
