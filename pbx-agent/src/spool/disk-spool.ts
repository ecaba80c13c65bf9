import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { type SpoolItem, SpoolItemSchema } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";

/** What goes into the spool: an item without its sequence, which the spool assigns. */
export type SpoolPayload = MessageInitShape<typeof SpoolItemSchema>["payload"];

export interface DiskSpool {
  /** Assigns the next sequence and queues the item; it is durable (fsync'd) by the next turn of the event loop. */
  append(payload: SpoolPayload): bigint;
  /** Durable items not yet acked, with sequence > `after`, at most `max`. */
  unacked(after: bigint, max: number): SpoolItem[];
  /** The gateway stored everything up to `sequence`: forget it, on disk too. */
  ack(sequence: bigint): void;
  readonly ackedSequence: bigint;
  /** Items written and not yet acked. */
  readonly depth: number;
  /** Called after each flush that made new items durable. */
  onDurable(listener: () => void): void;
  /** Flushes what is queued and closes the files. */
  close(): void;
}

const segmentBytes = 4 * 1024 * 1024;
const headerBytes = 8; // u32 length, u32 crc32 of the item bytes

/**
 * The agent's disk spool: append-only segment files of length-prefixed, checksummed
 * SpoolItems, written in groups with one fsync per group. An item leaves the spool only
 * when the gateway acked its sequence, so a SIGKILL at any moment loses nothing that
 * was durable; a torn last record (killed mid-write) is detected by its checksum and cut.
 * Sequences keep increasing across restarts (the `acked` file remembers the last one).
 */
export function openDiskSpool(dir: string): DiskSpool {
  mkdirSync(dir, { recursive: true });
  const ackPath = join(dir, "acked");
  let acked = readAcked(ackPath);
  const items: SpoolItem[] = []; // durable, unacked, in sequence order
  const segments: { path: string; last: bigint }[] = [];
  let next = acked + 1n;

  for (const name of readdirSync(dir)
    .filter((n) => n.startsWith("segment-"))
    .sort()) {
    const path = join(dir, name);
    const { records, validBytes, torn } = readSegment(path);
    if (torn) {
      const fd = openSync(path, "r+");
      ftruncateSync(fd, validBytes);
      fsyncSync(fd);
      closeSync(fd);
    }
    let last = 0n;
    for (const item of records) {
      last = item.sequence;
      if (item.sequence >= next) next = item.sequence + 1n;
      if (item.sequence > acked) items.push(item);
    }
    segments.push({ path, last });
  }

  let current: { fd: number; path: string; size: number } | undefined;
  let queued: { item: SpoolItem; frame: Buffer }[] = [];
  let flushScheduled = false;
  const listeners: (() => void)[] = [];

  function openSegment(firstSequence: bigint) {
    const path = join(dir, `segment-${firstSequence.toString().padStart(20, "0")}`);
    current = { fd: openSync(path, "a"), path, size: 0 };
    segments.push({ path, last: firstSequence });
    fsyncDir(dir);
  }

  function flush() {
    flushScheduled = false;
    if (queued.length === 0) return;
    const batch = queued;
    queued = [];
    const first = batch[0]?.item.sequence ?? 0n;
    if (!current || current.size >= segmentBytes) {
      if (current) closeSync(current.fd);
      openSegment(first);
    }
    const segment = current as { fd: number; path: string; size: number };
    const bytes = Buffer.concat(batch.map((b) => b.frame));
    writeSync(segment.fd, bytes);
    fsyncSync(segment.fd);
    segment.size += bytes.length;
    const tail = segments[segments.length - 1];
    const lastItem = batch[batch.length - 1];
    if (tail && lastItem) tail.last = lastItem.item.sequence;
    for (const { item } of batch) items.push(item);
    for (const listener of listeners) listener();
  }

  return {
    append(payload) {
      const item = create(SpoolItemSchema, { sequence: next++, payload });
      const body = toBinary(SpoolItemSchema, item);
      const frame = Buffer.allocUnsafe(headerBytes + body.length);
      frame.writeUInt32LE(body.length, 0);
      frame.writeUInt32LE(crc32(body), 4);
      frame.set(body, headerBytes);
      queued.push({ item, frame });
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
      return item.sequence;
    },

    unacked(after, max) {
      const out: SpoolItem[] = [];
      for (const item of items) {
        if (item.sequence <= after) continue;
        out.push(item);
        if (out.length >= max) break;
      }
      return out;
    },

    ack(sequence) {
      if (sequence <= acked) return;
      acked = sequence;
      writeAcked(ackPath, acked);
      let drop = 0;
      while (drop < items.length && (items[drop]?.sequence ?? 0n) <= acked) drop++;
      items.splice(0, drop);
      // Delete whole segments that hold nothing unacked, except the one being written.
      while (segments.length > 1 && (segments[0]?.last ?? 0n) <= acked) {
        const done = segments.shift();
        if (done) rmSync(done.path, { force: true });
      }
    },

    get ackedSequence() {
      return acked;
    },

    get depth() {
      return items.length + queued.length;
    },

    onDurable(listener) {
      listeners.push(listener);
    },

    close() {
      flush();
      if (current) closeSync(current.fd);
      current = undefined;
    },
  };
}

function readSegment(path: string): { records: SpoolItem[]; validBytes: number; torn: boolean } {
  const data = readFileSync(path);
  const records: SpoolItem[] = [];
  let offset = 0;
  while (offset + headerBytes <= data.length) {
    const length = data.readUInt32LE(offset);
    const checksum = data.readUInt32LE(offset + 4);
    const end = offset + headerBytes + length;
    if (end > data.length) break;
    const body = data.subarray(offset + headerBytes, end);
    if (crc32(body) !== checksum) break;
    records.push(fromBinary(SpoolItemSchema, body));
    offset = end;
  }
  return { records, validBytes: offset, torn: offset !== data.length };
}

function readAcked(path: string): bigint {
  try {
    return BigInt(readFileSync(path, "utf8").trim() || "0");
  } catch {
    return 0n;
  }
}

function writeAcked(path: string, sequence: bigint) {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w");
  writeSync(fd, sequence.toString());
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
}

function fsyncDir(dir: string) {
  const fd = openSync(dir, "r");
  fsyncSync(fd);
  closeSync(fd);
}
