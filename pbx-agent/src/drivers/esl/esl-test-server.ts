import { createServer, type Server, type Socket } from "node:net";
import { readEslCapture } from "./esl-capture-fixture.js";

/** What a replayed capture sends, minus what this server already says itself (auth/request and the first two replies). */
export function captureStream(name: string): Buffer {
  const bytes = readEslCapture(name);
  let pos = 0;
  while (bytes[pos] === 0x23) pos = bytes.indexOf(0x0a, pos) + 1;
  for (let frame = 0; frame < 3; frame++) pos = bytes.indexOf("\n\n", pos) + 2;
  return bytes.subarray(pos);
}

export interface EslTestServerOptions {
  password: string;
  /** Bytes sent once the client asked for `api version` (after login). */
  afterLogin?: Buffer;
  /** What `api show channels as json` answers; default no channels. */
  channels?: string;
  /** Answers a `bgapi` (its first line and headers); the bytes are written as they are. */
  onBgapi?(command: string, headers: Map<string, string>): Buffer | string;
  /** The api/response text of an `api <command>` (uuid_kill, uuid_dump…; not version); undefined: the default answer. */
  onApi?(command: string): string | undefined;
}

/**
 * A tiny FreeSWITCH event socket on 127.0.0.1 for driver tests: auth/request, auth,
 * `event plain ALL`, `api version`, `api status`, `exit`, and whatever `onBgapi` says —
 * mostly the bytes of a real capture.
 */
export class EslTestServer {
  readonly received: string[] = [];
  connections = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #options: EslTestServerOptions;

  private constructor(options: EslTestServerOptions) {
    this.#options = options;
    this.#server = createServer((socket) => this.#serve(socket));
  }

  static async start(options: EslTestServerOptions): Promise<EslTestServer> {
    const server = new EslTestServer(options);
    await new Promise<void>((resolve) => server.#server.listen(0, "127.0.0.1", resolve));
    return server;
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  }

  /** Writes to every client connection, as FreeSWITCH streaming events. */
  push(bytes: Buffer | string): void {
    for (const socket of this.#sockets) socket.write(bytes);
  }

  /** Drops every client connection (the server keeps listening). */
  dropClients(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.dropClients();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #serve(socket: Socket): void {
    this.connections++;
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.write("Content-Type: auth/request\n\n");
    let pending = "";
    socket.on("data", (chunk: Buffer) => {
      pending += chunk.toString("utf8");
      for (let end = pending.indexOf("\n\n"); end >= 0; end = pending.indexOf("\n\n")) {
        const block = pending.slice(0, end);
        pending = pending.slice(end + 2);
        this.#answer(socket, block);
      }
    });
  }

  #answer(socket: Socket, block: string): void {
    const [command = "", ...headerLines] = block.split("\n");
    this.received.push(command);
    const reply = (text: string) => socket.write(`Content-Type: command/reply\nReply-Text: ${text}\n\n`);
    const api = (text: string) =>
      socket.write(`Content-Type: api/response\nContent-Length: ${Buffer.byteLength(text)}\n\n${text}`);
    const apiAnswer = command.startsWith("api ") ? this.#options.onApi?.(command.slice(4)) : undefined;
    if (command.startsWith("auth ")) {
      if (command.slice(5) === this.#options.password) reply("+OK accepted");
      else {
        reply("-ERR invalid");
        socket.end();
      }
    } else if (command.startsWith("event ")) {
      reply(`+OK event listener enabled ${command.split(" ")[1]}`);
    } else if (command === "api version") {
      api("FreeSWITCH Version 1.10.12-release~64bit (-release 64bit)\n");
      if (this.#options.afterLogin !== undefined) socket.write(this.#options.afterLogin);
    } else if (apiAnswer !== undefined) {
      api(apiAnswer);
    } else if (command === "api show channels as json") {
      api(this.#options.channels ?? '{"row_count": 0}\n');
    } else if (command.startsWith("api uuid_dump ")) {
      api("-ERR No such channel!\n");
    } else if (command === "api status") {
      api("UP 0 years, 0 days, 0 hours\n");
    } else if (command.startsWith("bgapi ")) {
      const headers = new Map(headerLines.map((line) => line.split(": ", 2) as [string, string]));
      socket.write(
        this.#options.onBgapi?.(command, headers) ?? "Content-Type: command/reply\nReply-Text: -ERR no handler\n\n",
      );
    } else if (command === "exit") {
      reply("+OK bye");
      socket.end("Content-Type: text/disconnect-notice\nContent-Length: 14\n\nDisconnected.\n");
    } else {
      reply("-ERR command not found");
    }
  }
}
