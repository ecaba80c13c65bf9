import { connect, type Socket } from "node:net";
import { type AmiBlock, blockValue, parseAmiBlock } from "./ami-block.js";

/** A raw TCP AMI client for tests: sends bytes, collects the banner and every message received. */
export interface AmiTestClient {
  readonly socket: Socket;
  /** The first line the server sent. */
  readonly banner: Promise<string>;
  /** Every message received so far, in order. */
  readonly blocks: readonly AmiBlock[];
  /** Every byte received so far (banner included), as text. */
  readonly received: () => string;
  /** Writes an action: `Key: Value` CRLF lines and a blank line; repeated keys as arrays. */
  sendAction(fields: ReadonlyArray<readonly [string, string]>): void;
  /** Writes raw bytes. */
  sendRaw(data: string | Buffer): void;
  /** Resolves with the first message (from `from` on) that `match` accepts; rejects after `timeoutMs`. */
  waitFor(match: (block: AmiBlock) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<AmiBlock>;
  /** The Response carrying `actionId`. */
  response(actionId: string, timeoutMs?: number): Promise<AmiBlock>;
  /** Resolves when the server closed the connection. */
  readonly closed: Promise<void>;
  close(): void;
}

export async function connectAmiTestClient(port: number): Promise<AmiTestClient> {
  const socket = connect({ host: "127.0.0.1", port });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.on("error", () => undefined);
  let text = "";
  let parsed = 0;
  let resolveBanner: (banner: string) => void = () => undefined;
  const banner = new Promise<string>((resolve) => {
    resolveBanner = resolve;
  });
  let bannerSeen = false;
  const blocks: AmiBlock[] = [];
  const waiters = new Set<() => void>();
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    text += chunk;
    if (!bannerSeen) {
      const end = text.indexOf("\r\n");
      if (end < 0) return;
      bannerSeen = true;
      parsed = end + 2;
      resolveBanner(text.slice(0, end));
    }
    for (let end = text.indexOf("\r\n\r\n", parsed); end >= 0; end = text.indexOf("\r\n\r\n", parsed)) {
      blocks.push(parseAmiBlock(text.slice(parsed, end)));
      parsed = end + 4;
    }
    for (const waiter of waiters) waiter();
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));

  const waitFor: AmiTestClient["waitFor"] = (match, options = {}) => {
    const timeoutMs = options.timeoutMs ?? 2000;
    let next = options.from ?? 0;
    return new Promise((resolve, reject) => {
      const check = () => {
        for (; next < blocks.length; next++) {
          const block = blocks[next];
          if (block && match(block)) {
            cleanup();
            resolve(block);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching AMI message within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  };

  return {
    socket,
    banner,
    blocks,
    received: () => text,
    sendAction(fields) {
      socket.write(`${fields.map(([key, value]) => `${key}: ${value}\r\n`).join("")}\r\n`);
    },
    sendRaw(data) {
      socket.write(data);
    },
    waitFor,
    response: (actionId, timeoutMs) =>
      waitFor((block) => block[0]?.key === "Response" && blockValue(block, "ActionID") === actionId, { timeoutMs }),
    closed,
    close() {
      socket.destroy();
    },
  };
}
