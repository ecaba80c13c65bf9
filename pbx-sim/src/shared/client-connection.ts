import type { Socket } from "node:net";
import type { Logger } from "@callmesh/platform/logging.js";

/** What a handled message asks of the connection. */
export type MessageOutcome = "keep" | "close";

export interface ClientConnectionOptions<M> {
  readonly socket: Socket;
  readonly logger: Logger;
  /** The session's id, in logs. */
  readonly sessionId: number;
  /** Names the peer in logs: "client", "ESL client". */
  readonly peer: string;
  /** Names what failed in logs: "action", "ESL command". */
  readonly work: string;
  /** The first bytes the server sends (the banner, auth/request). */
  readonly greeting: string;
  /** Splits received bytes into whole client messages, keeping a partial one for the next chunk. */
  readonly read: (chunk: Buffer) => M[];
  /** Runs one message; messages run one at a time, in order, as the PBX's session thread runs them. */
  readonly handle: (message: M) => Promise<MessageOutcome>;
  /** Ends the session the protocol's way once a message answered "close". */
  readonly end: () => void;
  readonly onClose: () => void;
}

/** A client socket that queues what it reads, runs it in order, and drops a client that stops reading. */
export interface ClientConnection {
  readonly closed: boolean;
  /** Writes bytes; resolves once the socket took them, or at once if it is gone. */
  write(text: string): Promise<void>;
  /** Ignores what the client sends from now on (the session is ending). */
  stopReading(): void;
  destroy(): void;
}

// Messages waiting while one runs; beyond this the socket stops reading, so a flood cannot grow memory.
const MAX_QUEUED_MESSAGES = 64;
// A client that does not read is dropped rather than buffered for (Asterisk's writetimeout, FreeSWITCH's lost events).
const MAX_UNSENT_BYTES = 8 * 1024 * 1024;

export function createClientConnection<M>(options: ClientConnectionOptions<M>): ClientConnection {
  const { socket, logger, sessionId } = options;
  const queue: M[] = [];
  let running = false;
  let closed = false;

  const stopReading = () => {
    queue.length = 0;
    socket.removeAllListeners("data");
  };

  async function drain() {
    if (running) return;
    running = true;
    try {
      for (let message = queue.shift(); message && !closed; message = queue.shift()) {
        if (socket.isPaused() && queue.length < MAX_QUEUED_MESSAGES / 2) socket.resume();
        const outcome = await options.handle(message).catch((error: unknown) => {
          logger.error({ err: error, session: sessionId }, `${options.work} failed`);
          return "keep" as const;
        });
        if (outcome === "close") {
          options.end();
          break;
        }
      }
    } finally {
      running = false;
    }
  }

  socket.on("data", (chunk: Buffer) => {
    const messages = options.read(chunk);
    if (messages.length === 0) return;
    queue.push(...messages);
    if (queue.length >= MAX_QUEUED_MESSAGES) socket.pause();
    void drain();
  });
  socket.on("error", (error) => logger.debug({ err: error, session: sessionId }, `${options.peer} socket error`));
  socket.on("close", () => {
    closed = true;
    queue.length = 0;
    options.onClose();
  });
  socket.setNoDelay(true);
  socket.write(options.greeting);

  return {
    get closed() {
      return closed;
    },
    write(text) {
      if (closed || !socket.writable) return Promise.resolve();
      if (socket.writableLength > MAX_UNSENT_BYTES) {
        logger.warn({ session: sessionId, unsent: socket.writableLength }, `${options.peer} does not read, closing`);
        socket.destroy();
        return Promise.resolve();
      }
      return new Promise((resolve) => socket.write(text, () => resolve()));
    },
    stopReading,
    destroy() {
      stopReading();
      socket.destroy();
    },
  };
}
