import http from "node:http";
import http2 from "node:http2";
import net from "node:net";

/** A request handler that works for HTTP/1.1 and HTTP/2 requests alike (Connect's node adapter is one). */
export type DualHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export interface Server {
  /** The bound port (useful when 0 was asked). */
  readonly port: number;
  /** Stops accepting, lets open requests end for `graceMs`, then destroys what is left. */
  close(graceMs?: number): Promise<void>;
}

const preface = Buffer.from("PRI * HTTP/2.0");

/**
 * Serves HTTP/1.1 (Connect JSON for curl and browsers) and cleartext HTTP/2 (gRPC) on one
 * port: the first bytes of each connection tell which. An HTTP/2 client with prior
 * knowledge starts with the fixed preface `PRI * HTTP/2.0`; anything else is HTTP/1.
 */
export async function serve(options: { host: string; port: number; handler: DualHandler }): Promise<Server> {
  const h1 = http.createServer(options.handler as http.RequestListener);
  const h2 = http2.createServer(
    {},
    options.handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  );
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });

  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    // Peek in paused mode (never 'data', which would make the socket flow): read what has
    // arrived, put it back, and hand the socket over with its bytes still buffered.
    let head = Buffer.alloc(0);
    const peek = () => {
      const chunk = socket.read() as Buffer | null;
      if (chunk) head = Buffer.concat([head, chunk]);
      const compared = Math.min(head.length, preface.length);
      const isH2 = head.subarray(0, compared).equals(preface.subarray(0, compared));
      if (head.length === 0 || (isH2 && head.length < preface.length)) return; // could be either: wait
      socket.off("readable", peek);
      socket.unshift(head);
      (isH2 ? h2 : h1).emit("connection", socket);
    };
    socket.on("readable", peek);
  });

  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(options.port, options.host, () => resolve());
  });
  const address = tcp.address() as net.AddressInfo;

  return {
    port: address.port,
    async close(graceMs = 2000) {
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      h1.close();
      h1.closeIdleConnections();
      for (const session of sessions) session.close();
      const timer = setTimeout(() => {
        for (const session of sessions) session.destroy();
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
