import type { EslSkipReason } from "./esl-skip-reason.js";
import { decodeEslValue } from "./esl-url-decode.js";

/**
 * One ESL frame: the envelope headers (`Content-Type`, `Reply-Text`, `Job-UUID`…) and the
 * `Content-Length` bytes after them. A headers-only block with an `Event-Name` and no
 * `Content-Type` (an event body without its envelope) has contentType "" and its headers
 * in `headers`.
 */
export interface EslFrame {
  readonly contentType: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

export interface EslFrameParserOptions {
  onFrame(frame: EslFrame): void;
  /** Input dropped, with a short detail for the log. */
  onSkip(reason: EslSkipReason, detail: string): void;
  /** A header block longer than this is garbage; default 64 KiB. */
  maxHeaderBytes?: number;
  /** A Content-Length above this is garbage; default 16 MiB. */
  maxBodyBytes?: number;
}

export interface EslFrameParserStats {
  frames: number;
  /** Lines a client sent (`auth …`, `event plain ALL`…) found in a capture, skipped. */
  clientCommands: number;
}

/**
 * Streaming ESL framing over Buffers: chunks may be cut anywhere (inside a header, a
 * UTF-8 sequence, a body). A frame is header lines up to a blank line, then exactly
 * `Content-Length` bytes (bytes, not characters). Garbage is skipped and reported, and
 * the parser resyncs on the next line that starts a frame.
 *
 * Written here rather than taken from an npm ESL client (`modesl`…): the agent must
 * survive what a client library may treat as fatal or silently glue together — a
 * Content-Length that lies, a 1 MB line, binary bytes, client commands interleaved in a
 * replayed capture — and must report each one; it also checks an event's real end
 * against its Content-Length, which needs the event format, not just the framing.
 */
export interface EslFrameParser {
  push(chunk: Uint8Array): void;
  /** The stream ended: a frame cut off is salvaged if its event is whole, else reported. */
  end(): void;
  readonly stats: Readonly<EslFrameParserStats>;
}

export function createEslFrameParser(options: EslFrameParserOptions): EslFrameParser {
  return new FrameParser(options);
}

const LF = 10;
const CR = 13;

/** Words a client starts a command with; a block starting with one is what a client sent. */
const CLIENT_COMMANDS = new Set([
  "auth",
  "userauth",
  "event",
  "nixevent",
  "noevents",
  "myevents",
  "divert_events",
  "filter",
  "api",
  "bgapi",
  "sendmsg",
  "sendevent",
  "exit",
  "log",
  "nolog",
  "linger",
  "nolinger",
  "connect",
  "resume",
  "getvar",
]);

class FrameParser implements EslFrameParser {
  readonly stats: EslFrameParserStats = { frames: 0, clientCommands: 0 };
  readonly #options: EslFrameParserOptions;
  readonly #maxHeaderBytes: number;
  readonly #maxBodyBytes: number;
  /** Unread bytes; `#chunks` gathers a long body without copying on every push. */
  #buffer: Buffer = Buffer.alloc(0);
  #chunks: Buffer[] = [];
  #chunkBytes = 0;
  /** Bytes the current frame needs before parsing can go on (body end). */
  #needed = 0;
  /** Dropping an oversized block: skip until a line that starts a frame. */
  #discarding = false;

  constructor(options: EslFrameParserOptions) {
    this.#options = options;
    this.#maxHeaderBytes = options.maxHeaderBytes ?? 64 * 1024;
    this.#maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
  }

  push(chunk: Uint8Array): void {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.#chunkBytes += bytes.length;
    if (this.#buffer.length + this.#chunkBytes < this.#needed) return;
    this.#buffer =
      this.#buffer.length === 0 && this.#chunks.length === 1 ? bytes : Buffer.concat([this.#buffer, ...this.#chunks]);
    this.#chunks = [];
    this.#chunkBytes = 0;
    this.#parse();
  }

  end(): void {
    if (this.#chunks.length > 0) {
      this.#buffer = Buffer.concat([this.#buffer, ...this.#chunks]);
      this.#chunks = [];
      this.#chunkBytes = 0;
    }
    this.#needed = 0;
    this.#parse(true);
    // A last header block the stream ended before its blank line is still whole.
    if (!this.#discarding && !isBlank(this.#buffer) && findBlankLine(this.#buffer, 0) === undefined) {
      this.#buffer = Buffer.concat([this.#buffer, Buffer.from("\n\n")]);
      this.#parse(true);
    }
    const rest = this.#buffer;
    this.#buffer = Buffer.alloc(0);
    this.#discarding = false;
    if (rest.length > 0 && !isBlank(rest)) {
      this.#options.onSkip("truncated", `${rest.length} bytes at end of stream`);
    }
  }

  #parse(ending = false): void {
    let buffer = this.#buffer;
    let pos = 0;
    this.#needed = 0;
    while (pos < buffer.length) {
      if (this.#discarding) {
        const next = resyncPoint(buffer, pos);
        if (next < 0) {
          // Keep a short tail: the start of the next frame may be cut in two.
          pos = Math.max(pos, buffer.length - 32);
          break;
        }
        pos = next;
        this.#discarding = false;
        continue;
      }
      // Blank lines between frames carry nothing.
      if (buffer[pos] === LF) {
        pos++;
        continue;
      }
      if (buffer[pos] === CR && buffer[pos + 1] === LF) {
        pos += 2;
        continue;
      }
      const blank = findBlankLine(buffer, pos);
      if (blank === undefined) {
        if (buffer.length - pos > this.#maxHeaderBytes) {
          this.#options.onSkip("oversized", `header block over ${this.#maxHeaderBytes} bytes`);
          this.#discarding = true;
          pos = buffer.length - 32;
          continue;
        }
        break;
      }
      const { headEnd, next } = blank;
      if (headEnd - pos > this.#maxHeaderBytes) {
        this.#options.onSkip("oversized", `header block of ${headEnd - pos} bytes`);
        pos = next;
        continue;
      }
      const block = readHeaderBlock(buffer, pos, headEnd);
      if (block.junkLines > 0) {
        const where = block.kind === "frame" ? "before a frame" : "that are not ESL";
        this.#options.onSkip("garbage", `${block.junkLines} lines ${where}`);
      }
      if (block.kind !== "frame") {
        if (block.kind === "client") this.stats.clientCommands++;
        pos = next;
        continue;
      }
      const lengthText = block.headers.get("Content-Length");
      let length = 0;
      if (lengthText !== undefined) {
        length = /^\d{1,10}$/.test(lengthText) ? Number(lengthText) : -1;
        if (length < 0 || length > this.#maxBodyBytes) {
          this.#options.onSkip("bad_content_length", `Content-Length ${JSON.stringify(lengthText.slice(0, 20))}`);
          pos = next;
          continue;
        }
      }
      if (next + length > buffer.length && !ending) {
        this.#needed = next + length - pos;
        break;
      }
      const available = Math.min(length, buffer.length - next);
      const body = buffer.subarray(next, next + available);
      const contentType = block.headers.get("Content-Type") ?? "";
      const real = realEventLength(contentType, body);
      if (available < length && real === undefined) break; // truncated: reported by end()
      if (real !== undefined && real < body.length && !isBlank(body.subarray(real))) {
        this.#options.onSkip(
          "content_length_mismatch",
          `Content-Length ${length} but the event ends after ${real} bytes`,
        );
        this.#emit(contentType, block.headers, body.subarray(0, real));
        pos = next + real;
        continue;
      }
      if (available < length) {
        this.#options.onSkip(
          "content_length_mismatch",
          `Content-Length ${length} but the stream ended after ${available} bytes`,
        );
      }
      this.#emit(contentType, block.headers, body);
      pos = next + available;
    }
    if (pos > 0) buffer = buffer.subarray(pos);
    this.#buffer = buffer;
    if (this.#needed > 0) this.#needed = Math.max(this.#needed, 1);
  }

  #emit(contentType: string, headers: ReadonlyMap<string, string>, body: Buffer): void {
    this.stats.frames++;
    this.#options.onFrame({ contentType, headers, body });
  }
}

/** The end of the header lines starting at `from`: the LF before the blank line, and where the body starts. */
function findBlankLine(buffer: Buffer, from: number): { headEnd: number; next: number } | undefined {
  let lineEnd = buffer.indexOf(LF, from);
  while (lineEnd >= 0) {
    const after = lineEnd + 1;
    if (buffer[after] === LF) return { headEnd: lineEnd, next: after + 1 };
    if (buffer[after] === CR && buffer[after + 1] === LF) return { headEnd: lineEnd, next: after + 2 };
    if (after >= buffer.length) return undefined;
    lineEnd = buffer.indexOf(LF, after);
  }
  return undefined;
}

/** After garbage: the start of the next line beginning a frame, or just past a blank line; -1 if none yet. */
function resyncPoint(buffer: Buffer, from: number): number {
  let lineEnd = buffer.indexOf(LF, from);
  while (lineEnd >= 0 && lineEnd + 1 < buffer.length) {
    const start = lineEnd + 1;
    if (buffer[start] === LF) return start + 1;
    if (startsWith(buffer, start, "Content-Type: ") || startsWith(buffer, start, "Content-Length: ")) return start;
    lineEnd = buffer.indexOf(LF, start);
  }
  return -1;
}

function startsWith(buffer: Buffer, at: number, text: string): boolean {
  if (at + text.length > buffer.length) return false;
  for (let i = 0; i < text.length; i++) if (buffer[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

type HeaderBlock =
  | { kind: "frame"; headers: Map<string, string>; junkLines: number }
  | { kind: "client" | "junk"; junkLines: number };

/**
 * Reads one header block. Stray lines before a `Content-Type`/`Content-Length` line are
 * junk glued to a good frame; a block whose first line is a client command word is what
 * a client sent; anything else without `Name: value` lines is junk.
 */
function readHeaderBlock(buffer: Buffer, from: number, to: number): HeaderBlock {
  const all = buffer.toString("utf8", from, to).split("\n");
  // `#` lines are a capture's comments (source, scenario), never ESL.
  const comments = all.findIndex((line) => !line.startsWith("#"));
  if (comments < 0) return { kind: "client", junkLines: 0 };
  const lines = comments === 0 ? all : all.slice(comments);
  const first = stripCr(lines[0] ?? "");
  if (!isHeaderLine(first)) {
    const frameStart = lines.findIndex(
      (line) => line.startsWith("Content-Type: ") || line.startsWith("Content-Length: "),
    );
    if (frameStart > 0) return withHeaders(lines.slice(frameStart), frameStart);
    const word = /^([a-z_]+)(?: |$)/.exec(first)?.[1];
    if (word !== undefined && CLIENT_COMMANDS.has(word) && isPrintable(first)) return { kind: "client", junkLines: 0 };
    return { kind: "junk", junkLines: lines.length };
  }
  const block = withHeaders(lines, 0);
  if (block.kind === "frame" && !block.headers.has("Content-Type") && !block.headers.has("Event-Name")) {
    // Header lines with neither a type nor an event: the tail of a frame cut short.
    return { kind: "junk", junkLines: lines.length };
  }
  return block;
}

function withHeaders(lines: string[], junkLines: number): HeaderBlock {
  const headers = new Map<string, string>();
  for (const raw of lines) {
    const line = stripCr(raw);
    const colon = line.indexOf(": ");
    const name = colon > 0 ? line.slice(0, colon) : line.endsWith(":") ? line.slice(0, -1) : "";
    if (name === "") continue;
    if (!headers.has(name)) headers.set(name, colon > 0 ? decodeEslValue(line.slice(colon + 2)) : "");
  }
  return { kind: "frame", headers, junkLines };
}

function isHeaderLine(line: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_-]*:( |$)/.test(line);
}

function isPrintable(line: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control bytes are what this rejects
  return !/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(line);
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

function isBlank(bytes: Buffer): boolean {
  for (const byte of bytes) if (byte !== LF && byte !== CR && byte !== 32) return false;
  return true;
}

/**
 * Where an event body really ends, to catch a Content-Length larger than the event
 * (the rest is the next frames, fed back in). Undefined when it cannot be told: other
 * frame types, or an event cut short.
 */
function realEventLength(contentType: string, body: Buffer): number | undefined {
  if (contentType === "text/event-plain") {
    const headEnd = body.indexOf("\n\n");
    if (headEnd < 0) return undefined;
    const end = headEnd + 2 + innerContentLength(body, headEnd);
    return end <= body.length ? end : undefined;
  }
  if (contentType === "text/event-json") {
    // FreeSWITCH writes one JSON object and nothing after it: a frame start right after a `}` is the next frame.
    let last = body.length - 1;
    while (last >= 0 && (body[last] === LF || body[last] === CR || body[last] === 32)) last--;
    if (body[last] === 125) return body.length;
    for (let at = body.indexOf("}Content-"); at >= 0; at = body.indexOf("}Content-", at + 1)) {
      if (startsWith(body, at + 1, "Content-Type: ") || startsWith(body, at + 1, "Content-Length: ")) return at + 1;
    }
    return undefined;
  }
  return undefined;
}

/** An event's own `Content-Length` (BACKGROUND_JOB's result), 0 when it has none: always its last header line. */
function innerContentLength(body: Buffer, headEnd: number): number {
  const lineStart = body.lastIndexOf(LF, headEnd - 1) + 1;
  if (!startsWith(body, lineStart, "Content-Length: ")) return 0;
  const start = lineStart + 16;
  let end = start;
  while (end < headEnd && (body[end] as number) >= 48 && (body[end] as number) <= 57) end++;
  return end > start ? Number(body.toString("latin1", start, end)) : 0;
}
