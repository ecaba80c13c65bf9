import type { Socket } from "node:net";
import { connectTestSocket } from "../shared/test-socket.js";
import { type EslFrame, frameHeader } from "./esl-capture-file.js";
import { type EslEvent, parsePlainEvent } from "./esl-event.js";

/** A raw TCP event socket client for tests: a Content-Length frame reader and a command writer. */
export interface EslTestClient {
  readonly socket: Socket;
  /** Every frame received so far, in order. */
  readonly frames: readonly EslFrame[];
  /** Every byte received so far, as text. */
  readonly received: () => string;
  /** Writes a command and the blank line that ends it. */
  send(command: string): void;
  sendRaw(data: string | Buffer): void;
  /** Resolves with the first frame (from `from` on) that `match` accepts; rejects after `timeoutMs`. */
  waitFor(match: (frame: EslFrame) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<EslFrame>;
  /** Sends a command and resolves with the next command/reply or api/response frame. */
  command(command: string, timeoutMs?: number): Promise<EslFrame>;
  /** The events received so far (plain and json), decoded. */
  events(): EslEvent[];
  /** Resolves when the server closed the connection. */
  readonly closed: Promise<void>;
  close(): void;
}

const isReply = (frame: EslFrame) => {
  const type = frameHeader(frame, "Content-Type");
  return type === "command/reply" || type === "api/response";
};

/** Decodes a `text/event-plain` or `text/event-json` frame; other frames give undefined. */
export function frameEvent(frame: EslFrame): EslEvent | undefined {
  const type = frameHeader(frame, "Content-Type");
  if (type === "text/event-plain") return parsePlainEvent(frame.body);
  if (type !== "text/event-json") return undefined;
  const members = JSON.parse(frame.body) as Record<string, string | string[]>;
  const headers = Object.entries(members)
    .filter(([name]) => name !== "_body" && name !== "Content-Length")
    .map(([name, value]) => [name, Array.isArray(value) ? `ARRAY::${value.join("|:")}` : value] as const);
  const body = members._body;
  return typeof body === "string" ? { headers, body } : { headers };
}

export async function connectEslTestClient(port: number): Promise<EslTestClient> {
  let buffer = Buffer.alloc(0);
  const connection = await connectTestSocket<EslFrame>(port, {
    noun: "ESL frame",
    // The framer a driver would use: headers to the blank line, then exactly Content-Length bytes.
    frame: (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const frames: EslFrame[] = [];
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end < 0) break;
        const headers = buffer
          .subarray(0, end)
          .toString("utf8")
          .split("\n")
          .map((line) => [line.slice(0, line.indexOf(": ")), line.slice(line.indexOf(": ") + 2)] as const);
        const length = Number(headers.find(([name]) => name === "Content-Length")?.[1] ?? 0);
        if (buffer.length < end + 2 + length) break;
        frames.push({
          headers,
          body: buffer.subarray(end + 2, end + 2 + length).toString("utf8"),
          raw: buffer.subarray(0, end + 2 + length).toString("utf8"),
        });
        buffer = buffer.subarray(end + 2 + length);
      }
      return frames;
    },
  });
  const { socket, messages: frames, waitFor } = connection;

  return {
    socket,
    frames,
    received: connection.received,
    send(command) {
      socket.write(`${command}\n\n`);
    },
    sendRaw: connection.sendRaw,
    waitFor,
    command(command, timeoutMs) {
      const from = frames.length;
      socket.write(`${command}\n\n`);
      return waitFor(isReply, { from, timeoutMs });
    },
    events: () => frames.flatMap((frame) => frameEvent(frame) ?? []),
    closed: connection.closed,
    close: connection.close,
  };
}
