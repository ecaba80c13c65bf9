import { connect, type Socket } from "node:net";
import { StringDecoder } from "node:string_decoder";

/** A raw TCP client for simulator tests: keeps every byte and every message the protocol's framer cut out. */
export interface TestSocket<T> {
  readonly socket: Socket;
  /** Every message received so far, in order. */
  readonly messages: readonly T[];
  /** Every byte received so far, as text. */
  readonly received: () => string;
  /** Writes raw bytes. */
  sendRaw(data: string | Buffer): void;
  /** Resolves with the first message (from `from` on) that `match` accepts; rejects after `timeoutMs`. */
  waitFor(match: (message: T) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<T>;
  /** Resolves when the server closed the connection. */
  readonly closed: Promise<void>;
  close(): void;
}

export interface TestSocketOptions<T> {
  /** Names a message in timeout errors: "AMI message", "ESL frame". */
  readonly noun: string;
  /** Cuts the messages completed by `chunk` (`received` is all text so far, `chunk` included). */
  readonly frame: (chunk: Buffer, received: string) => T[];
}

export async function connectTestSocket<T>(port: number, options: TestSocketOptions<T>): Promise<TestSocket<T>> {
  const socket = connect({ host: "127.0.0.1", port });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.on("error", () => undefined);
  const decoder = new StringDecoder("utf8");
  let text = "";
  const messages: T[] = [];
  const waiters = new Set<() => void>();
  socket.on("data", (chunk: Buffer) => {
    text += decoder.write(chunk);
    messages.push(...options.frame(chunk, text));
    for (const waiter of waiters) waiter();
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));

  const waitFor: TestSocket<T>["waitFor"] = (match, waitOptions = {}) => {
    const timeoutMs = waitOptions.timeoutMs ?? 2000;
    let next = waitOptions.from ?? 0;
    return new Promise((resolve, reject) => {
      const check = () => {
        for (; next < messages.length; next++) {
          const message = messages[next];
          if (message !== undefined && match(message)) {
            cleanup();
            resolve(message);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching ${options.noun} within ${timeoutMs} ms`));
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
    messages,
    received: () => text,
    sendRaw(data) {
      socket.write(data);
    },
    waitFor,
    closed,
    close() {
      socket.destroy();
    },
  };
}
