import { decodeEslValue } from "./esl-url-decode.js";

/** A header value as FreeSWITCH sent it: one string, or a list for repeated or array headers. */
type RawValue = string | string[];

/**
 * One FreeSWITCH event, from `text/event-plain`, `text/event-json` or a headers-only
 * block (the outbound-mode `connect` reply). Headers are read lazily: most events
 * (HEARTBEAT, CHANNEL_STATE, CODEC…) are dropped on their name alone, so the header table
 * is only built, and values only URL-decoded, when a handler asks for one.
 */
export class EslEvent {
  readonly name: string;
  /** The event's own body (BACKGROUND_JOB's `+OK <uuid>`, `_body` in JSON), "" if none. */
  readonly body: string;
  readonly #text: string;
  readonly #encoded: boolean;
  #headers: Map<string, RawValue> | undefined;

  private constructor(name: string, text: string, encoded: boolean, headers?: Map<string, RawValue>, body = "") {
    this.name = name;
    this.#text = text;
    this.#encoded = encoded;
    this.#headers = headers;
    this.body = body;
  }

  /**
   * A `text/event-plain` body: URL-encoded `Name: value` lines, a blank line, then the
   * event's own body when it has a `Content-Length`.
   */
  static fromPlain(text: string): EslEvent {
    const headersEnd = text.indexOf("\n\n");
    const head = headersEnd < 0 ? text : text.slice(0, headersEnd);
    const event = new EslEvent(decodeEslValue(headerValue(head, "Event-Name") ?? ""), head, true);
    // An event's own Content-Length is always its last header line.
    const lastLine = head.slice(head.lastIndexOf("\n") + 1);
    const length = lastLine.startsWith("Content-Length: ") ? lastLine.slice(16) : undefined;
    if (length !== undefined && headersEnd >= 0) {
      // The inner length counts bytes; the text after the blank line is the body as sent.
      const rest = Buffer.from(text.slice(headersEnd + 2), "utf8");
      const body = rest.subarray(0, Number(length) || 0).toString("utf8");
      return new EslEvent(event.name, head, true, event.#table(), body);
    }
    return event;
  }

  /** A `text/event-json` body: raw values, arrays for multi-value headers, body in `_body`. */
  static fromJson(object: Record<string, unknown>): EslEvent {
    const headers = new Map<string, RawValue>();
    let body = "";
    for (const [name, value] of Object.entries(object)) {
      if (name === "_body") body = typeof value === "string" ? value : "";
      else if (typeof value === "string") headers.set(name, value);
      else if (Array.isArray(value)) headers.set(name, value.map(String));
      else if (value !== null && value !== undefined) headers.set(name, String(value));
    }
    const name = headers.get("Event-Name");
    return new EslEvent(typeof name === "string" ? name : "", "", false, headers, body);
  }

  /** A headers-only block (outbound-mode `connect` reply), values already decoded. */
  static fromHeaders(headers: ReadonlyMap<string, string>): EslEvent {
    return new EslEvent(headers.get("Event-Name") ?? "", "", false, new Map(headers));
  }

  /** The first value of a header, decoded; undefined when absent. */
  get(name: string): string | undefined {
    // Most handlers read a few headers of a long event: searching beats building the table.
    if (this.#headers === undefined) {
      const raw = headerValue(this.#text, name);
      return raw === undefined ? undefined : this.#decode(raw);
    }
    const value = this.#headers.get(name);
    if (value === undefined) return undefined;
    const first = typeof value === "string" ? value : value[0];
    return first === undefined ? undefined : this.#decode(first);
  }

  /** Every value of a header: repeated lines, JSON arrays, and plain `ARRAY::a|:b` values. */
  getAll(name: string): string[] {
    const value = this.#table().get(name);
    if (value === undefined) return [];
    const values = (typeof value === "string" ? [value] : value).map((raw) => this.#decode(raw));
    return values.flatMap((decoded) => (decoded.startsWith("ARRAY::") ? decoded.slice(7).split("|:") : [decoded]));
  }

  /** Channel variable `variable_<name>`. */
  variable(name: string): string | undefined {
    return this.get(`variable_${name}`);
  }

  /** Microseconds since the epoch of a `*-Time`/`*_uepoch` style header; undefined when absent or 0. */
  micros(name: string): number | undefined {
    const value = Number(this.get(name));
    return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  }

  /** Header names, in the order sent. */
  names(): string[] {
    return [...this.#table().keys()];
  }

  #decode(raw: string): string {
    return this.#encoded ? decodeEslValue(raw) : raw;
  }

  #table(): Map<string, RawValue> {
    if (this.#headers !== undefined) return this.#headers;
    const headers = new Map<string, RawValue>();
    const text = this.#text;
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      const colon = text.indexOf(": ", start);
      if (colon > start && colon < end) {
        addHeader(headers, text.slice(start, colon), text.slice(colon + 2, end));
      } else if (text.charCodeAt(end - 1) === 58 && end - 1 > start) {
        // `Name:` with nothing after it: an empty value.
        addHeader(headers, text.slice(start, end - 1), "");
      }
      start = end + 1;
    }
    this.#headers = headers;
    return headers;
  }
}

function addHeader(headers: Map<string, RawValue>, name: string, value: string): void {
  const clean = value.endsWith("\r") ? value.slice(0, -1) : value;
  const existing = headers.get(name);
  if (existing === undefined) headers.set(name, clean);
  else if (typeof existing === "string") headers.set(name, [existing, clean]);
  else existing.push(clean);
}

/** The first value of one header of a raw header block, undecoded, without building the table. */
function headerValue(head: string, name: string): string | undefined {
  let start: number;
  if (head.startsWith(name) && head.charCodeAt(name.length) === 58) start = 0;
  else {
    const at = head.indexOf(`\n${name}:`);
    if (at < 0) return undefined;
    start = at + 1;
  }
  let valueStart = start + name.length + 1;
  if (head.charCodeAt(valueStart) === 32) valueStart++;
  let end = head.indexOf("\n", valueStart);
  if (end < 0) end = head.length;
  if (end > valueStart && head.charCodeAt(end - 1) === 13) end--;
  return head.slice(valueStart, end);
}
