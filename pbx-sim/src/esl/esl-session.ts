import type { Socket } from "node:net";
import type { Logger } from "@callmesh/platform/logging.js";
import { createClientConnection, type MessageOutcome } from "../shared/client-connection.js";
import { createEslCommandReader, type EslClientPacket } from "./esl-command-reader.js";
import { AUTH_REQUEST, DISCONNECT_NOTICE } from "./esl-replies.js";
import { createEslSubscription, type EslSubscription } from "./esl-subscription.js";

/** One inbound event socket connection and its listener state. */
export interface EslSession {
  readonly id: number;
  readonly remoteAddress: string;
  authenticated: boolean;
  readonly subscription: EslSubscription;
  readonly closed: boolean;
  /** Writes bytes; resolves once the socket took them, or at once if it is gone. */
  write(text: string): Promise<void>;
  /** Sends the disconnect notice, then closes once it is flushed (exit, failed auth). */
  hangUp(): void;
  destroy(): void;
}

/** What a handled packet asks of the connection. */
export type PacketOutcome = MessageOutcome;

export interface EslSessionOptions {
  readonly id: number;
  readonly socket: Socket;
  readonly logger: Logger;
  /** FreeSWITCH waits 25 s for the first packet (read_packet timeout), then hangs up. */
  readonly authTimeoutMs: number;
  readonly maxPacketBytes: number;
  /** Runs one packet; the session runs them one at a time, in order, as the listener thread does. */
  readonly onPacket: (session: EslSession, packet: EslClientPacket) => Promise<PacketOutcome>;
}

export function createEslSession(options: EslSessionOptions): EslSession {
  const { socket, logger } = options;
  const reader = createEslCommandReader(options.maxPacketBytes);
  let sawPacket = false;
  const connection = createClientConnection({
    socket,
    logger,
    sessionId: options.id,
    peer: "ESL client",
    work: "ESL command",
    greeting: AUTH_REQUEST,
    read: (chunk) => {
      const packets = reader.push(chunk);
      if (packets.length > 0) sawPacket = true;
      return packets;
    },
    handle: (packet) => options.onPacket(session, packet),
    end: () => session.hangUp(),
    onClose: () => clearTimeout(authTimer),
  });

  const session: EslSession = {
    id: options.id,
    remoteAddress: `${socket.remoteAddress ?? ""}:${socket.remotePort ?? 0}`,
    authenticated: false,
    subscription: createEslSubscription(),
    get closed() {
      return connection.closed;
    },
    write: connection.write,
    hangUp() {
      connection.stopReading();
      if (socket.writable) socket.end(DISCONNECT_NOTICE);
    },
    destroy: connection.destroy,
  };

  const authTimer = setTimeout(() => {
    if (!sawPacket && !session.closed) {
      logger.info({ session: session.id }, "ESL client sent nothing in time, closing");
      session.hangUp();
    }
  }, options.authTimeoutMs);
  authTimer.unref();
  return session;
}
