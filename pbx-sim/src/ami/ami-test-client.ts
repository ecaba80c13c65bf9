import type { Socket } from "node:net";
import { connectTestSocket } from "../shared/test-socket.js";
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
  let parsed = 0;
  let resolveBanner: (banner: string) => void = () => undefined;
  const banner = new Promise<string>((resolve) => {
    resolveBanner = resolve;
  });
  let bannerSeen = false;
  const connection = await connectTestSocket<AmiBlock>(port, {
    noun: "AMI message",
    // The banner line, then blocks each ended by a blank line.
    frame: (_chunk, text) => {
      if (!bannerSeen) {
        const end = text.indexOf("\r\n");
        if (end < 0) return [];
        bannerSeen = true;
        parsed = end + 2;
        resolveBanner(text.slice(0, end));
      }
      const blocks: AmiBlock[] = [];
      for (let end = text.indexOf("\r\n\r\n", parsed); end >= 0; end = text.indexOf("\r\n\r\n", parsed)) {
        blocks.push(parseAmiBlock(text.slice(parsed, end)));
        parsed = end + 4;
      }
      return blocks;
    },
  });
  const { socket, waitFor } = connection;

  return {
    socket,
    banner,
    blocks: connection.messages,
    received: connection.received,
    sendAction(fields) {
      socket.write(`${fields.map(([key, value]) => `${key}: ${value}\r\n`).join("")}\r\n`);
    },
    sendRaw: connection.sendRaw,
    waitFor,
    response: (actionId, timeoutMs) =>
      waitFor((block) => block[0]?.key === "Response" && blockValue(block, "ActionID") === actionId, { timeoutMs }),
    closed: connection.closed,
    close: connection.close,
  };
}
