import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import type { Logger } from "@callmesh/platform/logging.js";
import { createClientConnection, type MessageOutcome } from "../shared/client-connection.js";
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

export type { MessageOutcome } from "../shared/client-connection.js";

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

export function createAmiSession(options: AmiSessionOptions): AmiSession {
  const { socket, logger } = options;
  const reader = createAmiActionReader();
  const connection = createClientConnection({
    socket,
    logger,
    sessionId: options.id,
    peer: "client",
    work: "action",
    greeting: `${options.banner}\r\n`,
    read: (chunk) => reader.push(chunk),
    handle: (message) => options.onMessage(session, message),
    end: () => session.end(),
    onClose: () => clearTimeout(authTimer),
  });

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
      return connection.closed;
    },
    write: connection.write,
    end() {
      connection.stopReading();
      socket.end();
    },
    destroy: connection.destroy,
  };

  const authTimer = setTimeout(() => {
    if (!session.authenticated) {
      logger.info({ session: session.id }, "client did not log in in time, closing");
      session.destroy();
    }
  }, options.authTimeoutMs);
  authTimer.unref();
  return session;
}
