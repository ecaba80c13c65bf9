import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import type { Logger } from "@callmesh/platform/logging.js";
import { createAmiActionReader, type RawClientMessage } from "./ami-action-reader.js";

/** One AMI client connection and its manager session state. */
export interface AmiSession {
  readonly id: number;
  /** `IPV4/TCP/127.0.0.1/56012`-style addresses, as security events print them. */
  readonly localAddress: string;
  readonly remoteAddress: string;
  /** When the client connected (security events' SessionTV). */
  readonly startedAtMs: number;
  /** A pointer-like id, as Asterisk's security events name a session (`0x7fb2f800d170`). */
  readonly sessionId: string;
  authenticated: boolean;
  username: string | undefined;
  /** Event classes this session receives (0 until login). */
  eventMask: number;
  /** The MD5 challenge handed out by Action: Challenge. */
  challenge: string | undefined;
  readonly closed: boolean;
  /** Writes bytes; resolves once the socket took them, or at once if it is gone. */
  write(text: string): Promise<void>;
  /** Closes after what was written is flushed (Logoff, failed login). */
  end(): void;
  destroy(): void;
}

/** What a handled message asks of the connection. */
export type MessageOutcome = "keep" | "close";

export interface AmiSessionOptions {
  readonly id: number;
  readonly socket: Socket;
  readonly banner: string;
  readonly logger: Logger;
  /** Asterisk drops connections that have not logged in by then (manager.conf authtimeout, 30 s). */
  readonly authTimeoutMs: number;
  /** Runs one message; the session runs them one at a time, in order, as Asterisk's session thread does. */
  readonly onMessage: (session: AmiSession, message: RawClientMessage) => Promise<MessageOutcome>;
}

const address = (family: string | undefined, host: string | undefined, port: number | undefined) =>
  `${family === "IPv6" ? "IPV6" : "IPV4"}/TCP/${host ?? ""}/${port ?? 0}`;

// Messages waiting while one runs; beyond this the socket stops reading, so a flood cannot grow memory.
const MAX_QUEUED_MESSAGES = 64;
const MAX_UNSENT_BYTES = 8 * 1024 * 1024;

export function createAmiSession(options: AmiSessionOptions): AmiSession {
  const { socket, logger } = options;
  const reader = createAmiActionReader();
  const queue: RawClientMessage[] = [];
  let running = false;
  let closed = false;

  const session: AmiSession = {
    id: options.id,
    localAddress: address(socket.localFamily, socket.localAddress, socket.localPort),
    remoteAddress: address(socket.remoteFamily, socket.remoteAddress, socket.remotePort),
    startedAtMs: Date.now(),
    sessionId: `0x7f${randomBytes(5).toString("hex")}`,
    authenticated: false,
    username: undefined,
    eventMask: 0,
    challenge: undefined,
    get closed() {
      return closed;
    },
    write(text) {
      if (closed || !socket.writable) return Promise.resolve();
      if (socket.writableLength > MAX_UNSENT_BYTES) {
        // Asterisk drops a client that stops reading (manager.conf writetimeout) rather than buffer for it.
        logger.warn({ session: options.id, unsent: socket.writableLength }, "client does not read, closing");
        socket.destroy();
        return Promise.resolve();
      }
      return new Promise((resolve) => socket.write(text, () => resolve()));
    },
    end() {
      stopReading();
      socket.end();
    },
    destroy() {
      stopReading();
      socket.destroy();
    },
  };

  const authTimer = setTimeout(() => {
    if (!session.authenticated) {
      logger.info({ session: session.id }, "client did not log in in time, closing");
      session.destroy();
    }
  }, options.authTimeoutMs);
  authTimer.unref();

  function stopReading() {
    queue.length = 0;
    socket.removeAllListeners("data");
  }

  async function drain() {
    if (running) return;
    running = true;
    try {
      for (let message = queue.shift(); message && !closed; message = queue.shift()) {
        if (socket.isPaused() && queue.length < MAX_QUEUED_MESSAGES / 2) socket.resume();
        const outcome = await options.onMessage(session, message).catch((error: unknown) => {
          logger.error({ err: error, session: session.id }, "action failed");
          return "keep" as const;
        });
        if (outcome === "close") {
          session.end();
          break;
        }
      }
    } finally {
      running = false;
    }
  }

  socket.on("data", (chunk: Buffer) => {
    queue.push(...reader.push(chunk));
    if (queue.length >= MAX_QUEUED_MESSAGES) socket.pause();
    void drain();
  });
  socket.on("error", (error) => logger.debug({ err: error, session: session.id }, "client socket error"));
  socket.on("close", () => {
    closed = true;
    clearTimeout(authTimer);
    queue.length = 0;
  });
  socket.setNoDelay(true);
  socket.write(`${options.banner}\r\n`);
  return session;
}
