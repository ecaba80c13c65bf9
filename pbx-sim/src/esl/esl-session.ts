import type { Socket } from "node:net";
import type { Logger } from "@callmesh/platform/logging.js";
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
export type PacketOutcome = "keep" | "close";

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

// Packets waiting while one runs; beyond this the socket stops reading, so a flood cannot grow memory.
const MAX_QUEUED_PACKETS = 64;
// A listener that does not read is dropped rather than buffered for (FreeSWITCH kills it after lost events).
const MAX_UNSENT_BYTES = 8 * 1024 * 1024;

export function createEslSession(options: EslSessionOptions): EslSession {
  const { socket, logger } = options;
  const reader = createEslCommandReader(options.maxPacketBytes);
  const queue: EslClientPacket[] = [];
  let running = false;
  let closed = false;
  let sawPacket = false;

  const session: EslSession = {
    id: options.id,
    remoteAddress: `${socket.remoteAddress ?? ""}:${socket.remotePort ?? 0}`,
    authenticated: false,
    subscription: createEslSubscription(),
    get closed() {
      return closed;
    },
    write(text) {
      if (closed || !socket.writable) return Promise.resolve();
      if (socket.writableLength > MAX_UNSENT_BYTES) {
        logger.warn({ session: options.id, unsent: socket.writableLength }, "ESL client does not read, closing");
        socket.destroy();
        return Promise.resolve();
      }
      return new Promise((resolve) => socket.write(text, () => resolve()));
    },
    hangUp() {
      stopReading();
      if (socket.writable) socket.end(DISCONNECT_NOTICE);
    },
    destroy() {
      stopReading();
      socket.destroy();
    },
  };

  const authTimer = setTimeout(() => {
    if (!sawPacket && !closed) {
      logger.info({ session: session.id }, "ESL client sent nothing in time, closing");
      session.hangUp();
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
      for (let packet = queue.shift(); packet && !closed; packet = queue.shift()) {
        if (socket.isPaused() && queue.length < MAX_QUEUED_PACKETS / 2) socket.resume();
        const outcome = await options.onPacket(session, packet).catch((error: unknown) => {
          logger.error({ err: error, session: session.id }, "ESL command failed");
          return "keep" as const;
        });
        if (outcome === "close") {
          session.hangUp();
          break;
        }
      }
    } finally {
      running = false;
    }
  }

  socket.on("data", (chunk: Buffer) => {
    const packets = reader.push(chunk);
    if (packets.length === 0) return;
    sawPacket = true;
    queue.push(...packets);
    if (queue.length >= MAX_QUEUED_PACKETS) socket.pause();
    void drain();
  });
  socket.on("error", (error) => logger.debug({ err: error, session: session.id }, "ESL client socket error"));
  socket.on("close", () => {
    closed = true;
    clearTimeout(authTimer);
    queue.length = 0;
  });
  socket.setNoDelay(true);
  socket.write(AUTH_REQUEST);
  return session;
}
