/** One packet a client sent: its command line, the header lines after it, and a Content-Length body. */
export interface EslCommandPacket {
  readonly kind: "command";
  readonly command: string;
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>;
  readonly body?: string;
}

/** A packet longer than the reader keeps: skipped, never run. */
export interface EslOversizedPacket {
  readonly kind: "oversized";
  readonly bytes: number;
}

export type EslClientPacket = EslCommandPacket | EslOversizedPacket;

export interface EslCommandReader {
  /** Feeds received bytes; returns the packets they complete, in order. */
  push(chunk: Buffer): EslClientPacket[];
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a client's bytes into packets as mod_event_socket's read_packet does: blank lines before
 * a packet are skipped; a packet ends at two LFs with nothing but CRs between them; a
 * `Content-Length` header is followed by that many body bytes. FreeSWITCH buffers up to 10 MB; this
 * reader keeps `maxPacketBytes` and reports longer packets as oversized, so a flood cannot grow memory.
 */
export function createEslCommandReader(maxPacketBytes = 64 * 1024): EslCommandReader {
  let head: Buffer[] = [];
  let headBytes = 0;
  let newlines = 0;
  let oversized = false;
  let body: { remaining: number; chunks: Buffer[]; packet: EslCommandPacket | undefined; bytes: number } | undefined;

  const finishHead = (): EslClientPacket | undefined => {
    const size = headBytes;
    const text = Buffer.concat(head).toString("utf8");
    head = [];
    headBytes = 0;
    newlines = 0;
    if (oversized) {
      oversized = false;
      return { kind: "oversized", bytes: size };
    }
    const lines = text.split(/\r?\n|\r/).filter((line) => line !== "");
    const command = lines[0] ?? "";
    const headers = lines.slice(1).flatMap((line) => {
      const colon = line.indexOf(":");
      return colon < 0 ? [] : [[line.slice(0, colon), line.slice(colon + 1).replace(/^ +/, "")] as const];
    });
    const packet: EslCommandPacket = { kind: "command", command, headers };
    const length = Number.parseInt(headers.find(([name]) => name.toLowerCase() === "content-length")?.[1] ?? "", 10);
    if (length > 0) {
      body = { remaining: length, chunks: [], packet: length <= maxPacketBytes ? packet : undefined, bytes: size };
      return undefined;
    }
    return packet;
  };

  return {
    push(chunk) {
      const packets: EslClientPacket[] = [];
      let offset = 0;
      while (offset < chunk.length) {
        if (body) {
          const take = Math.min(body.remaining, chunk.length - offset);
          if (body.packet) body.chunks.push(chunk.subarray(offset, offset + take));
          body.remaining -= take;
          body.bytes += take;
          offset += take;
          if (body.remaining === 0) {
            const { packet, chunks, bytes } = body;
            body = undefined;
            packets.push(
              packet ? { ...packet, body: Buffer.concat(chunks).toString("utf8") } : { kind: "oversized", bytes },
            );
          }
          continue;
        }
        if (headBytes === 0) {
          // read_packet drops line ends before a packet starts.
          while (offset < chunk.length && (chunk[offset] === LF || chunk[offset] === CR)) offset++;
          if (offset === chunk.length) break;
        }
        const start = offset;
        let ended = false;
        for (; offset < chunk.length; offset++) {
          const byte = chunk[offset];
          if (byte === LF) newlines++;
          else if (byte !== CR) newlines = 0;
          if (newlines === 2) {
            offset++;
            ended = true;
            break;
          }
        }
        const piece = chunk.subarray(start, offset);
        if (headBytes + piece.length > maxPacketBytes) oversized = true;
        if (!oversized) head.push(Buffer.from(piece));
        headBytes += piece.length;
        if (ended) {
          const packet = finishHead();
          if (packet) packets.push(packet);
        }
      }
      return packets;
    },
  };
}
