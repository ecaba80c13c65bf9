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
import { dirname, join } from "node:path";
import { crc32 } from "node:zlib";
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { type SpoolItem, SpoolItemSchema } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";

/** What goes into the spool: an item without its sequence, which the spool assigns. */
export type SpoolPayload = MessageInitShape<typeof SpoolItemSchema>["payload"];

/** What became of an appended item. */
export type AppendResult =
  /** Queued for the next group write, with its sequence; durable by the next turn of the event loop. */
  | { status: "queued"; sequence: bigint }
  /** The spool cannot write now (full or disk failing): held in memory, written in order once it can. */
  | { status: "held" }
  /** Neither written nor held: lost, and reported as such (`rejected` event). */
  | { status: "rejected"; reason: RejectReason };

/** Why an item could not be kept: the spool at its size limit, its disk failing, or the item alone over 1 MiB (or the limit). */
export type RejectReason = "limit" | "disk_error" | "too_large";

/** Changes of the spool's state, for logs, metrics and notices to the gateway. */
export type SpoolEvent =
  /** The spool passed its alert threshold. */
  | { type: "near_full"; bytes: number; limitBytes: number }
  /** The spool cannot write new items: it hit its size limit, or its disk failed (`error`). */
  | { type: "full"; cause: "limit" | "disk"; error?: NodeJS.ErrnoException; bytes: number; limitBytes: number }
  /** Writing works again and every held item is written: new items go straight to disk. */
  | { type: "accepting"; bytes: number; limitBytes: number }
  /** An item was lost: the spool could not write it and the memory overflow was full. */
  | { type: "rejected"; reason: RejectReason };

export interface SpoolStats {
  /** Items written (or being written) and not yet acked. */
  depth: number;
  /** Bytes of the spool's segment files, plus what is being written. */
  bytes: number;
  limitBytes: number;
  /** Bytes past which the spool is near full. */
  alertBytes: number;
  /** Items held in memory because the spool could not write them. */
  held: number;
  /** Most items held in memory. */
  heldLimit: number;
  nearFull: boolean;
  full: boolean;
  /** The disk error that stops writing now, if any. */
  diskError?: NodeJS.ErrnoException;
}

export interface DiskSpoolOptions {
  /** Most bytes the spool's files may hold (default 1 GiB). */
  limitBytes?: number;
  /** Percent of the limit past which the spool is near full (default 80). */
  alertPercent?: number;
  /** Most items held in memory while the spool cannot write (default 10,000). */
  overflowItems?: number;
  /** How often writing is retried after a disk error (default 1 s). */
  retryMs?: number;
}

export interface DiskSpool {
  /** Assigns the next sequence and queues the item, or holds it in memory while the spool cannot write. */
  append(payload: SpoolPayload): AppendResult;
  /** Durable items not yet acked, with sequence > `after`, at most `max`. */
  unacked(after: bigint, max: number): SpoolItem[];
  /** The gateway stored everything up to `sequence`: forget it, on disk too. */
  ack(sequence: bigint): void;
  readonly ackedSequence: bigint;
  /** Items written and not yet acked. */
  readonly depth: number;
  stats(): SpoolStats;
  /** Called after each flush that made new items durable. */
  onDurable(listener: () => void): void;
  /** Called on each change of state and each lost item. */
  onEvent(listener: (event: SpoolEvent) => void): void;
  /** Flushes what is queued (and what fits of what is held) and closes the files. Returns the held items it could not write. */
  close(): number;
}

export const defaultSpoolLimitBytes = 1024 ** 3;
const maxSegmentBytes = 4 * 1024 * 1024;
const maxItemBytesCap = 1024 * 1024;
const headerBytes = 8; // u32 length, u32 crc32 of the item bytes

interface Segment {
  path: string;
  /** Lowest sequence the file holds (records before it are second copies, skipped). */
  first: bigint;
  /** Highest sequence in the file; first - 1 while it is empty. */
  last: bigint;
  /** Bytes of whole, checksummed records. */
  size: number;
  /** No more writes go to this file (found at start, rolled over, or left after a failed write). */
  sealed: boolean;
  /** The file's items, while they are in memory: always for the one being written, else for the latest few read. */
  records?: SpoolItem[];
}

/** Segments other than the one being written whose items stay in memory, so reading on is cheap. */
const cachedSegments = 2;

interface Queued {
  item: SpoolItem;
  frame: Buffer;
}

/**
 * The agent's disk spool: append-only segment files of length-prefixed, checksummed
 * SpoolItems, written in groups with one fsync per group. An item leaves the spool only
 * when the gateway acked its sequence, so a SIGKILL at any moment loses nothing that
 * was durable; a torn last record (killed mid-write) is detected by its checksum and cut.
 * Sequences keep increasing across restarts (the `acked` file remembers the last one).
 * Memory holds the items of the segment being written and of the last two read, not the
 * whole spool: a full spool of 1 GiB costs a few MiB of RAM.
 *
 * The files are bounded by `limitBytes`. Segments are at most 1/16 of the limit and a
 * segment is deleted once all its items are acked, so acked bytes are given back. An item
 * that does not fit, or that arrives while the disk fails (ENOSPC, EIO…), is held in
 * memory, up to `overflowItems`, and written in order once space returns (an ack deleted
 * a segment) or a retried write succeeds; what does not fit there is rejected and counted.
 * Nothing queued or held is reported durable before its fsync returned.
 */
export function openDiskSpool(dir: string, options: DiskSpoolOptions = {}): DiskSpool {
  const limitBytes = options.limitBytes ?? defaultSpoolLimitBytes;
  const alertBytes = Math.floor((limitBytes * (options.alertPercent ?? 80)) / 100);
  const rearmBytes = Math.floor(alertBytes * 0.9);
  const overflowItems = options.overflowItems ?? 10_000;
  const retryMs = options.retryMs ?? 1000;
  const segmentBytes = Math.max(4096, Math.min(maxSegmentBytes, Math.floor(limitBytes / 16)));
  // Bigger items could never fit, or would not pass the stream to the gateway.
  const maxItemBytes = Math.min(limitBytes, maxItemBytesCap);

  mkdirSync(dir, { recursive: true });
  const ackPath = join(dir, "acked");
  let acked = readAcked(ackPath);
  const segments: Segment[] = [];
  let lastDurable = acked; // highest sequence written and fsync'd (sequences on disk have no gaps)
  let next = acked + 1n;
  let bytes = 0; // sum of segments' sizes

  let highest = 0n;
  for (const name of readdirSync(dir)
    .filter((n) => n.startsWith("segment-"))
    .sort()) {
    const path = join(dir, name);
    const { records, validBytes, torn } = scanSegment(path);
    if (torn) cutTo(path, validBytes);
    const segment: Segment = { path, first: 0n, last: 0n, size: validBytes, sealed: true };
    for (const item of records) {
      // A write that failed after some records reached the file is retried whole elsewhere: keep the first copy.
      if (item.sequence <= highest) continue;
      highest = item.sequence;
      if (segment.first === 0n) segment.first = item.sequence;
      segment.last = item.sequence;
      if (item.sequence >= next) next = item.sequence + 1n;
    }
    segments.push(segment);
    bytes += validBytes;
  }
  if (highest > lastDurable) lastDurable = highest;
  const recentlyRead: Segment[] = [];

  let current: { fd: number; segment: Segment } | undefined;
  let queued: Queued[] = [];
  let queuedBytes = 0;
  const held: SpoolPayload[] = [];
  let diskError: NodeJS.ErrnoException | undefined;
  let limitFull = false;
  let nearFull = false;
  let full = false;
  let flushScheduled = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let closed = false;
  const durableListeners: (() => void)[] = [];
  const eventListeners: ((event: SpoolEvent) => void)[] = [];

  const emit = (event: SpoolEvent) => {
    for (const listener of eventListeners) listener(event);
  };

  /** Reports what changed since the last call: crossing the alert threshold, becoming full, accepting again. */
  function updateState(cause?: "limit" | "disk") {
    const used = bytes + queuedBytes;
    if (limitFull && used <= alertBytes) limitFull = false;
    const nowFull = limitFull || diskError !== undefined || held.length > 0;
    if (!nearFull && used > alertBytes) {
      nearFull = true;
      emit({ type: "near_full", bytes: used, limitBytes });
    } else if (nearFull && used <= rearmBytes) {
      nearFull = false;
    }
    if (nowFull && (!full || cause === "disk")) {
      full = true;
      emit({
        type: "full",
        cause: cause ?? (diskError ? "disk" : "limit"),
        ...(diskError ? { error: diskError } : {}),
        bytes: used,
        limitBytes,
      });
    } else if (!nowFull && full) {
      full = false;
      emit({ type: "accepting", bytes: used, limitBytes });
    }
  }

  function frameOf(sequence: bigint, payload: SpoolPayload): Queued {
    const item = create(SpoolItemSchema, { sequence, payload });
    const body = toBinary(SpoolItemSchema, item);
    const frame = Buffer.allocUnsafe(headerBytes + body.length);
    frame.writeUInt32LE(body.length, 0);
    frame.writeUInt32LE(crc32(body), 4);
    frame.set(body, headerBytes);
    return { item, frame };
  }

  /** Queues the item if it fits under the limit. */
  function tryQueue(queuedItem: Queued): boolean {
    if (bytes + queuedBytes + queuedItem.frame.length > limitBytes) return false;
    next++;
    queued.push(queuedItem);
    queuedBytes += queuedItem.frame.length;
    scheduleFlush();
    return true;
  }

  function scheduleFlush() {
    if (flushScheduled || diskError || closed) return;
    flushScheduled = true;
    setImmediate(flush);
  }

  function hold(payload: SpoolPayload, reason: RejectReason): AppendResult {
    if (held.length < overflowItems) {
      held.push(payload);
      return { status: "held" };
    }
    emit({ type: "rejected", reason });
    return { status: "rejected", reason };
  }

  /** Moves held items to the write queue, oldest first, as long as they fit. */
  function drain() {
    let moved = 0;
    while (held.length > moved && !diskError) {
      if (!tryQueue(frameOf(next, held[moved] as SpoolPayload))) break;
      moved++;
    }
    held.splice(0, moved);
  }

  function uniqueSegmentPath(firstSequence: bigint): string {
    const base = join(dir, `segment-${firstSequence.toString().padStart(20, "0")}`);
    let path = base;
    for (let n = 1; segments.some((s) => s.path === path); n++) path = `${base}-${n}`;
    return path;
  }

  /** The open segment to write to: the last one if it may grow, else a new file. */
  function openCurrent(firstSequence: bigint): { fd: number; segment: Segment } {
    if (current && current.segment.size < segmentBytes) return current;
    if (current) {
      current.segment.sealed = true;
      closeQuietly(current.fd);
      release(current.segment);
      current = undefined;
    }
    const tail = segments[segments.length - 1];
    if (tail && !tail.sealed && tail.size < segmentBytes) {
      current = { fd: openSync(tail.path, "a"), segment: tail };
      return current;
    }
    const segment: Segment = {
      path: uniqueSegmentPath(firstSequence),
      first: firstSequence,
      last: firstSequence - 1n,
      size: 0,
      sealed: false,
      records: [],
    };
    const fd = openSync(segment.path, "a");
    try {
      fsyncDir(dir);
    } catch (error) {
      closeQuietly(fd);
      rmSync(segment.path, { force: true });
      throw error;
    }
    segments.push(segment);
    current = { fd, segment };
    return current;
  }

  function flush() {
    flushScheduled = false;
    if (!closed) writeQueued();
  }

  /** Writes the queued group with one fsync; on a disk error keeps it queued and retries later. */
  function writeQueued() {
    if (queued.length === 0) return;
    const batch = queued;
    const first = batch[0]?.item.sequence ?? next;
    const data = Buffer.concat(batch.map((b) => b.frame));
    let target: { fd: number; segment: Segment } | undefined;
    let written = 0;
    try {
      target = openCurrent(first);
      while (written < data.length) written += writeSync(target.fd, data, written);
      fsyncSync(target.fd);
    } catch (error) {
      failWrite(error as NodeJS.ErrnoException, target, written, data.length);
      return;
    }
    queued = [];
    queuedBytes = 0;
    const segment = target.segment;
    segment.size += data.length;
    bytes += data.length;
    const lastItem = batch[batch.length - 1];
    if (lastItem) {
      segment.last = lastItem.item.sequence;
      lastDurable = lastItem.item.sequence;
    }
    if (segment.records) for (const { item } of batch) segment.records.push(item);
    if (diskError) {
      diskError = undefined;
      drain();
    }
    updateState();
    for (const listener of durableListeners) listener();
  }

  /**
   * A write or fsync failed. The file is cut back to its last good record (a crash before
   * that is harmless: checksums find the torn tail, duplicates are skipped on open); if it
   * cannot be cut, or the fsync failed (its pages may be gone), the file takes no more writes.
   */
  function failWrite(
    error: NodeJS.ErrnoException,
    target: { fd: number; segment: Segment } | undefined,
    written: number,
    attempted: number,
  ) {
    if (target) {
      closeQuietly(target.fd);
      current = undefined;
      release(target.segment);
      const syncFailed = written === attempted;
      if (written > 0) {
        try {
          cutTo(target.segment.path, target.segment.size);
        } catch {
          target.segment.sealed = true;
        }
      }
      if (syncFailed) target.segment.sealed = true;
    }
    const first = diskError === undefined;
    diskError = error;
    if (first) updateState("disk");
    if (!closed) {
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        flush();
      }, retryMs);
      retryTimer.unref();
    }
  }

  function depth() {
    return (lastDurable > acked ? Number(lastDurable - acked) : 0) + queued.length;
  }

  /** A segment's items, from memory or read again from its file; undefined if the file cannot be read now. */
  function recordsOf(segment: Segment): SpoolItem[] | undefined {
    if (!segment.records) {
      try {
        const kept: SpoolItem[] = [];
        for (const item of readSegment(segment.path).records) {
          const previous = kept[kept.length - 1]?.sequence ?? segment.first - 1n;
          if (item.sequence > previous && item.sequence >= segment.first && item.sequence <= segment.last)
            kept.push(item);
        }
        segment.records = kept;
      } catch {
        return undefined;
      }
    }
    const at = recentlyRead.indexOf(segment);
    if (at >= 0) recentlyRead.splice(at, 1);
    recentlyRead.push(segment);
    while (recentlyRead.length > cachedSegments) {
      const evicted = recentlyRead.shift();
      if (evicted && evicted !== current?.segment) evicted.records = undefined;
    }
    return segment.records;
  }

  /** A segment no longer written to keeps its items in memory only while it is among the last read. */
  function release(segment: Segment) {
    if (!recentlyRead.includes(segment)) segment.records = undefined;
  }

  function deleteAckedSegments() {
    let freed = false;
    while (segments.length > 0) {
      const segment = segments[0] as Segment;
      if (segment.last > acked) break;
      if (current?.segment === segment) {
        if (queued.length > 0) break; // being written to right now
        closeQuietly(current.fd);
        current = undefined;
      }
      try {
        rmSync(segment.path, { force: true });
      } catch {
        break; // tried again at the next ack
      }
      segments.shift();
      segment.records = undefined;
      const at = recentlyRead.indexOf(segment);
      if (at >= 0) recentlyRead.splice(at, 1);
      bytes -= segment.size;
      freed = true;
    }
    return freed;
  }

  return {
    append(payload) {
      const queuedItem = frameOf(next, payload);
      if (queuedItem.frame.length > maxItemBytes) {
        emit({ type: "rejected", reason: "too_large" });
        return { status: "rejected", reason: "too_large" };
      }
      if (diskError || held.length > 0) return hold(payload, diskError ? "disk_error" : "limit");
      if (tryQueue(queuedItem)) {
        updateState();
        return { status: "queued", sequence: queuedItem.item.sequence };
      }
      limitFull = true;
      const result = hold(payload, "limit");
      updateState("limit");
      return result;
    },

    unacked(after, max) {
      const out: SpoolItem[] = [];
      let from = acked; // bigints: no Math.max
      if (after > from) from = after;
      for (const segment of segments) {
        if (segment.last <= from || segment.size === 0) continue;
        const records = recordsOf(segment);
        if (!records) break; // unreadable now: hand out nothing past it, so nothing is skipped
        for (const item of records) {
          if (item.sequence <= from) continue;
          out.push(item);
          if (out.length >= max) return out;
        }
      }
      return out;
    },

    ack(sequence) {
      if (sequence <= acked) return;
      acked = sequence;
      try {
        writeAcked(ackPath, acked);
      } catch {
        // Segments stay until the ack is on disk: they are what the next sequence is read from after a restart.
        return;
      }
      if (deleteAckedSegments()) drain();
      updateState();
    },

    get ackedSequence() {
      return acked;
    },

    get depth() {
      return depth();
    },

    stats() {
      return {
        depth: depth(),
        bytes: bytes + queuedBytes,
        limitBytes,
        alertBytes,
        held: held.length,
        heldLimit: overflowItems,
        nearFull,
        full,
        ...(diskError ? { diskError } : {}),
      };
    },

    onDurable(listener) {
      durableListeners.push(listener);
    },

    onEvent(listener) {
      eventListeners.push(listener);
    },

    close() {
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
      closed = true;
      diskError = undefined; // one last try
      drain();
      writeQueued();
      if (current) closeQuietly(current.fd);
      current = undefined;
      return held.length + queued.length;
    },
  };
}

/** A segment file's whole, checksummed records, each turned into what `read` makes of its bytes. */
function readSegmentWith<T>(
  path: string,
  read: (body: Uint8Array) => T,
): { records: T[]; validBytes: number; torn: boolean } {
  const data = readFileSync(path);
  const records: T[] = [];
  let offset = 0;
  while (offset + headerBytes <= data.length) {
    const length = data.readUInt32LE(offset);
    const checksum = data.readUInt32LE(offset + 4);
    const end = offset + headerBytes + length;
    if (end > data.length) break;
    const body = data.subarray(offset + headerBytes, end);
    if (crc32(body) !== checksum) break;
    records.push(read(body));
    offset = end;
  }
  return { records, validBytes: offset, torn: offset !== data.length };
}

const readSegment = (path: string) => readSegmentWith(path, (body) => fromBinary(SpoolItemSchema, body));

/** Only the records' sequences: what opening the spool needs, without decoding every item. */
const scanSegment = (path: string) => readSegmentWith(path, (body) => ({ sequence: sequenceOf(body) }));

/** SpoolItem's field 1 (`sequence`, a varint), which protobuf-es writes first; a full decode if it is not there. */
function sequenceOf(body: Uint8Array): bigint {
  if (body[0] === 0x08) {
    let value = 0n;
    for (let i = 1, shift = 0n; i < body.length && i <= 10; i++, shift += 7n) {
      const byte = body[i] as number;
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
  }
  return fromBinary(SpoolItemSchema, body).sequence;
}

/** Cuts a segment file back to `size` bytes, durably. */
function cutTo(path: string, size: number) {
  const fd = openSync(path, "r+");
  try {
    ftruncateSync(fd, size);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function closeQuietly(fd: number) {
  try {
    closeSync(fd);
  } catch {
    // already closed, or the disk is gone: nothing more to do with this descriptor
  }
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
  try {
    writeSync(fd, sequence.toString());
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path)); // the new ack must outlive a power cut before the segments it frees are deleted
}

function fsyncDir(dir: string) {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
