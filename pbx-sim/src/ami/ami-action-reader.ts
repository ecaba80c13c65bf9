/**
 * A client message as Asterisk's manager reads it (main/manager.c get_input/do_message):
 * header lines up to a blank line, CRLF or bare LF.
 */
export interface RawClientMessage {
  /** Header lines in arrival order, without their line ending. */
  readonly headers: readonly string[];
  /** Asterisk answers these with an error instead of running the action. */
  readonly problem?: "line-too-long" | "too-many-lines";
}

export interface AmiActionReader {
  /** Feeds received bytes; returns every message they complete. Memory stays bounded whatever arrives. */
  push(chunk: Buffer): RawClientMessage[];
}

export interface AmiActionReaderOptions {
  /** Longest line kept; Asterisk's input buffer holds 1024 bytes. */
  readonly maxLineBytes?: number;
  /** Most header lines in one message; Asterisk's AST_MAX_MANHEADERS is 128. */
  readonly maxHeaders?: number;
}

const LF = 0x0a;
const CR = 0x0d;

export function createAmiActionReader(options: AmiActionReaderOptions = {}): AmiActionReader {
  const maxLineBytes = options.maxLineBytes ?? 1024;
  const maxHeaders = options.maxHeaders ?? 128;
  let pending: Buffer = Buffer.alloc(0);
  let headers: string[] = [];
  let lineTooLong = false;
  let tooManyLines = false;
  // Inside an overlong line: drop bytes up to its end instead of buffering them.
  let discarding = false;

  const finishMessage = (out: RawClientMessage[]) => {
    const problem = tooManyLines ? "too-many-lines" : lineTooLong ? "line-too-long" : undefined;
    out.push(problem ? { headers, problem } : { headers });
    headers = [];
    lineTooLong = false;
    tooManyLines = false;
  };

  return {
    push(chunk) {
      const out: RawClientMessage[] = [];
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let start = 0;
      for (;;) {
        const newline = pending.indexOf(LF, start);
        if (newline < 0) break;
        let end = newline;
        if (end > start && pending[end - 1] === CR) end -= 1;
        const length = end - start;
        if (discarding || length >= maxLineBytes) {
          discarding = false;
          lineTooLong = true;
        } else if (length === 0) {
          finishMessage(out);
        } else if (headers.length < maxHeaders) {
          headers.push(pending.toString("utf8", start, end));
        } else {
          tooManyLines = true;
        }
        start = newline + 1;
      }
      pending = pending.subarray(start);
      if (pending.length >= maxLineBytes) {
        discarding = true;
        lineTooLong = true;
        pending = Buffer.alloc(0);
      }
      // Own the leftover so the caller's chunk can be garbage collected.
      if (pending.length > 0 && start > 0) pending = Buffer.from(pending);
      return out;
    },
  };
}
