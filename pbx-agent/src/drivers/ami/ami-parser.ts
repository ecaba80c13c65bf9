import { StringDecoder } from "node:string_decoder";
import { AmiMessage } from "./ami-message.js";

/** What the parser dropped or repaired; every count is garbage that did not stop the stream. */
export interface AmiParserStats {
  messages: number;
  banners: number;
  /** Lines longer than `maxLineLength`, dropped whole. */
  oversizedLines: number;
  /** Lines inside a block that are not `Key: Value`, and stray lines between blocks. */
  malformedLines: number;
  /** Blocks with neither `Event` nor `Response`, or with too many lines. */
  skippedBlocks: number;
  /**
   * Blocks a client sent (an `Action` and no `Event`/`Response`), found in captures that
   * interleave both directions; skipped, and not garbage.
   */
  clientActions: number;
  /** `Response: Follows` blocks that never saw `--END COMMAND--` before the next message. */
  unterminatedFollows: number;
  /** A block cut off by the end of the stream. */
  truncatedBlocks: number;
}

export interface AmiParserOptions {
  onMessage(message: AmiMessage): void;
  /** The `Asterisk Call Manager/x.y.z` line a server sends first. */
  onBanner?(banner: string): void;
  /** A listener threw; the parser keeps going. Default: rethrown outside the parser. */
  onListenerError?(error: unknown): void;
  /** Longest line kept, in characters; default 1 MiB. */
  maxLineLength?: number;
  /** Most `Key: Value` lines in one block; default 10,000. */
  maxLinesPerMessage?: number;
}

/**
 * Streaming AMI framing: feed it chunks cut anywhere (inside a CRLF, a key, a UTF-8
 * sequence); it calls `onMessage` once per complete block.
 */
export interface AmiParser {
  push(chunk: Uint8Array | string): void;
  /** The stream ended: drops a partial block (counted) and resets. */
  end(): void;
  readonly stats: Readonly<AmiParserStats>;
}

const BANNER_PREFIX = "Asterisk Call Manager/";
const END_COMMAND = "--END COMMAND--";
const CR = 13;
const SPACE = 32;

/** Reading `Key: Value` lines. */
const HEADERS = 0;
/** After `Response: Follows`: `Privilege`/`ActionID` headers until the free text starts. */
const FOLLOWS_HEADERS = 1;
/** Free text (blank lines included) until `--END COMMAND--`, possibly glued to the last line. */
const FOLLOWS_TEXT = 2;

/** All counters at zero. */
export function createParserStats(): AmiParserStats {
  return {
    messages: 0,
    banners: 0,
    oversizedLines: 0,
    malformedLines: 0,
    skippedBlocks: 0,
    clientActions: 0,
    unterminatedFollows: 0,
    truncatedBlocks: 0,
  };
}

export function createAmiParser(options: AmiParserOptions): AmiParser {
  return new StreamParser(options);
}

/**
 * Values keep their bytes except the one space Asterisk writes after the colon: trailing
 * spaces are data (`AccountCode: ` is an empty account code, a variable may end in a
 * space), so nothing is trimmed. Free text of a pre-Asterisk-14 `Response: Follows` block
 * becomes one `Output` field per line, the shape Asterisk 14+ sends, so callers read
 * both with `getAll("Output")`.
 */
class StreamParser implements AmiParser {
  readonly stats: AmiParserStats = createParserStats();
  readonly #options: AmiParserOptions;
  readonly #maxLine: number;
  readonly #maxFields: number;
  #decoder = new StringDecoder("utf8");
  /** Text after the last LF, waiting for the rest of its line. */
  #rest = "";
  /** Inside an oversized line: drop everything up to the next LF. */
  #discarding = false;
  #fields: string[] | undefined;
  /** The current block outgrew maxLinesPerMessage: drop it up to its blank line. */
  #droppingBlock = false;
  #mode: number = HEADERS;
  /** Blank lines seen inside follows text and not yet known to be part of it. */
  #pendingBlanks = 0;

  constructor(options: AmiParserOptions) {
    this.#options = options;
    this.#maxLine = options.maxLineLength ?? 1024 * 1024;
    this.#maxFields = 2 * (options.maxLinesPerMessage ?? 10_000);
  }

  push(chunk: Uint8Array | string): void {
    let text = typeof chunk === "string" ? chunk : this.#decoder.write(chunk as Buffer);
    if (text.length === 0) return;
    if (this.#discarding) {
      const newline = text.indexOf("\n");
      if (newline < 0) return;
      this.#discarding = false;
      text = text.slice(newline + 1);
    }
    const rest = this.#rest;
    const buffer = rest.length === 0 ? text : rest + text;
    // The carried-over part holds no LF: start searching after it.
    let search = rest.length;
    let start = 0;
    for (;;) {
      const newline = buffer.indexOf("\n", search);
      if (newline < 0) break;
      let end = newline;
      if (end > start && buffer.charCodeAt(end - 1) === CR) end--;
      if (end - start > this.#maxLine) this.stats.oversizedLines++;
      else this.#line(buffer, start, end);
      start = newline + 1;
      search = start;
    }
    this.#rest = start === 0 ? buffer : buffer.slice(start);
    if (this.#rest.length > this.#maxLine) {
      this.#rest = "";
      this.#discarding = true;
      this.stats.oversizedLines++;
    }
  }

  end(): void {
    this.#decoder.end();
    if (this.#fields !== undefined || this.#rest.length > 0) this.stats.truncatedBlocks++;
    this.#decoder = new StringDecoder("utf8");
    this.#rest = "";
    this.#discarding = false;
    this.#resetBlock();
  }

  #line(buffer: string, start: number, end: number): void {
    if (this.#mode !== HEADERS) {
      this.#followsLine(buffer, start, end);
      return;
    }
    if (start === end) {
      this.#finishBlock();
      return;
    }
    if (this.#droppingBlock) return;
    const colon = buffer.indexOf(":", start);
    if (colon <= start || colon >= end) {
      if (this.#fields === undefined && buffer.startsWith(BANNER_PREFIX, start)) {
        this.stats.banners++;
        const banner = buffer.slice(start, end);
        try {
          this.#options.onBanner?.(banner);
        } catch (error) {
          this.#listenerFailed(error);
        }
      } else {
        this.stats.malformedLines++;
      }
      return;
    }
    const key = buffer.slice(start, colon);
    const valueStart = colon + 1 < end && buffer.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1;
    const value = buffer.slice(valueStart, end);
    let fields = this.#fields;
    if (fields === undefined) {
      fields = [];
      this.#fields = fields;
    }
    if (fields.length >= this.#maxFields) {
      this.stats.skippedBlocks++;
      this.#fields = undefined;
      this.#droppingBlock = true;
      return;
    }
    fields.push(key, value);
    if (value.length === 7 && value === "Follows" && key.length === 8 && key.toLowerCase() === "response") {
      this.#mode = FOLLOWS_HEADERS;
    }
  }

  #followsLine(buffer: string, start: number, end: number): void {
    const fields = this.#fields as string[];
    if (end - start >= END_COMMAND.length && buffer.startsWith(END_COMMAND, end - END_COMMAND.length)) {
      this.#flushBlanks(fields);
      // Glued: "2 calls processed--END COMMAND--" ends the text without a line break.
      if (end - start > END_COMMAND.length) fields.push("Output", buffer.slice(start, end - END_COMMAND.length));
      this.#finishBlock();
      return;
    }
    if (start === end) {
      this.#mode = FOLLOWS_TEXT;
      this.#pendingBlanks++;
      return;
    }
    if (this.#mode === FOLLOWS_HEADERS) {
      const colon = buffer.indexOf(":", start);
      if (colon > start && colon < end) {
        const key = buffer.slice(start, colon);
        const lower = key.toLowerCase();
        if (lower === "privilege" || lower === "actionid") {
          const valueStart = colon + 1 < end && buffer.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1;
          fields.push(key, buffer.slice(valueStart, end));
          return;
        }
      }
      this.#mode = FOLLOWS_TEXT;
    }
    // A blank line then the start of a message: the follows text was never terminated.
    // Close it so that one lost terminator cannot swallow the rest of the session.
    if (this.#pendingBlanks > 0 && (buffer.startsWith("Event: ", start) || buffer.startsWith("Response: ", start))) {
      this.stats.unterminatedFollows++;
      this.#pendingBlanks = 0;
      this.#finishBlock();
      this.#line(buffer, start, end);
      return;
    }
    this.#flushBlanks(fields);
    fields.push("Output", buffer.slice(start, end));
  }

  #flushBlanks(fields: string[]): void {
    for (; this.#pendingBlanks > 0; this.#pendingBlanks--) fields.push("Output", "");
  }

  #finishBlock(): void {
    const fields = this.#fields;
    this.#resetBlock();
    if (fields === undefined) return;
    const message = new AmiMessage(fields);
    if (isClientAction(message)) {
      this.stats.clientActions++;
      return;
    }
    if (message.event === undefined && message.response === undefined) {
      this.stats.skippedBlocks++;
      return;
    }
    this.stats.messages++;
    try {
      this.#options.onMessage(message);
    } catch (error) {
      this.#listenerFailed(error);
    }
  }

  #resetBlock(): void {
    this.#fields = undefined;
    this.#droppingBlock = false;
    this.#mode = HEADERS;
    this.#pendingBlanks = 0;
  }

  #listenerFailed(error: unknown): void {
    const onError = this.#options.onListenerError;
    if (onError) onError(error);
    else
      queueMicrotask(() => {
        throw error;
      });
  }
}

/** What a client sends starts with `Action:`, or at least has one and nothing a server sends. */
function isClientAction(message: AmiMessage): boolean {
  const first = message.fields[0];
  if (first !== undefined && first.length === 6 && first.toLowerCase() === "action") return true;
  return message.event === undefined && message.response === undefined && message.has("Action");
}
