import { createServer, type Socket } from "node:net";
import type { Logger } from "@callmesh/platform/logging.js";

/** What the server needs of a protocol's session: a name for its logs. */
export interface ServedSession {
  readonly id: number;
  readonly remoteAddress: string;
}

export interface SimulatorServerOptions<S extends ServedSession> {
  /** Names the protocol in logs: "AMI", "ESL". */
  readonly protocol: string;
  readonly logger: Logger;
  /** Opens the protocol's session on an accepted connection (ids count from 1). */
  readonly accept: (socket: Socket, id: number) => S;
}

/** The TCP side of a simulator: client connections, work in flight, and a close that waits for both. */
export interface SimulatorServer<S extends ServedSession> {
  /** The connected sessions, in connection order; a session leaves when its socket closes. */
  readonly sessions: ReadonlySet<S>;
  /** Aborted when close() starts: calls and loops stop between two events. */
  readonly signal: AbortSignal;
  /** Keeps work (a call, a broadcast) that close() waits for. */
  track(work: Promise<unknown>): void;
  /** Listens; resolves with the port (a random free one for port 0). */
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting, destroys every connection and waits for the work in flight; once, however often called. */
  close(): Promise<void>;
}

export function createSimulatorServer<S extends ServedSession>(options: SimulatorServerOptions<S>): SimulatorServer<S> {
  const { logger, protocol } = options;
  const closing = new AbortController();
  const sessions = new Set<S>();
  const sockets = new Set<Socket>();
  const inFlight = new Set<Promise<unknown>>();
  let nextSessionId = 1;
  let listeningPort: number | undefined;
  let closed: Promise<void> | undefined;

  const server = createServer((socket) => {
    if (closing.signal.aborted) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    const session = options.accept(socket, nextSessionId++);
    sessions.add(session);
    socket.once("close", () => sessions.delete(session));
    logger.debug({ session: session.id, remote: session.remoteAddress }, `${protocol} client connected`);
  });

  return {
    sessions,
    signal: closing.signal,
    track(work) {
      inFlight.add(work);
      work.then(
        () => inFlight.delete(work),
        () => inFlight.delete(work),
      );
    },
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen({ host, port }, () => {
          server.off("error", reject);
          const address = server.address();
          listeningPort = typeof address === "object" && address ? address.port : port;
          logger.info({ host, port: listeningPort }, `${protocol} simulator listening`);
          resolve(listeningPort);
        });
      });
    },
    close() {
      closed ??= (async () => {
        closing.abort();
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await Promise.allSettled([...inFlight]);
        await serverClosed;
        logger.info({ port: listeningPort }, `${protocol} simulator closed`);
      })();
      return closed;
    },
  };
}
