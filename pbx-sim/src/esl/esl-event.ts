import { eslUrlDecode, eslUrlEncode } from "./esl-url-codec.js";

/** A FreeSWITCH event: its headers in order (names may repeat), values decoded, and an optional body. */
export interface EslEvent {
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>;
  readonly body?: string;
}

/** How a listener asked for events (`event plain …`, `event json …`). */
export type EslEventFormat = "plain" | "json";

/** The first value of a header, matched case-insensitively as switch_event_get_header does. */
export function eventHeader(event: EslEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  return event.headers.find(([key]) => key.toLowerCase() === wanted)?.[1];
}

export const eventName = (event: EslEvent) => eventHeader(event, "Event-Name") ?? "";

const byteLength = (text: string) => Buffer.byteLength(text, "utf8");

/**
 * switch_event_serialize: `Name: value` lines URL-encoded (an empty value prints `_undef_`), then
 * `Content-Length` and the body when there is one, else a blank line.
 */
export function serializePlainEvent(event: EslEvent): string {
  let text = "";
  for (const [name, value] of event.headers) {
    const encoded = eslUrlEncode(value);
    text += `${name}: ${encoded === "" ? "_undef_" : encoded}\n`;
  }
  if (event.body) return `${text}Content-Length: ${byteLength(event.body)}\n\n${event.body}`;
  return `${text}\n`;
}

// A multi-value header prints as `ARRAY::a|:b` in plain and as a JSON array in json.
const ARRAY_PREFIX = "ARRAY::";
const jsonValue = (value: string) =>
  value.startsWith(ARRAY_PREFIX)
    ? `[${value
        .slice(ARRAY_PREFIX.length)
        .split("|:")
        .map((item) => JSON.stringify(item))
        .join(",")}]`
    : JSON.stringify(value);

/**
 * switch_event_serialize_json, printed by cJSON_PrintUnformatted: one member per header in order
 * (repeated names repeat, as cJSON allows), values raw, then `Content-Length` and `_body`.
 */
export function serializeJsonEvent(event: EslEvent): string {
  const members = event.headers.map(([name, value]) => `${JSON.stringify(name)}:${jsonValue(value)}`);
  if (event.body !== undefined) {
    members.push(`"Content-Length":${JSON.stringify(String(byteLength(event.body)))}`);
    members.push(`"_body":${JSON.stringify(event.body)}`);
  }
  return `{${members.join(",")}}`;
}

/** The bytes mod_event_socket writes for one event to a listener in `format`. */
export function eventFrame(event: EslEvent, format: EslEventFormat): string {
  const text = format === "json" ? serializeJsonEvent(event) : serializePlainEvent(event);
  return `Content-Length: ${byteLength(text)}\nContent-Type: text/event-${format}\n\n${text}`;
}

/** Parses the body of a `text/event-plain` frame (the inverse of serializePlainEvent). */
export function parsePlainEvent(text: string): EslEvent {
  const headers: Array<readonly [string, string]> = [];
  let offset = 0;
  while (offset < text.length) {
    const end = text.indexOf("\n", offset);
    const line = text.slice(offset, end < 0 ? undefined : end);
    offset = end < 0 ? text.length : end + 1;
    if (line === "") break;
    const colon = line.indexOf(": ");
    if (colon <= 0) throw new Error(`not a header line: ${JSON.stringify(line.slice(0, 80))}`);
    const value = line.slice(colon + 2);
    headers.push([line.slice(0, colon), value === "_undef_" ? "" : eslUrlDecode(value)]);
  }
  const last = headers.at(-1);
  if (last?.[0] === "Content-Length" && offset < text.length) {
    headers.pop();
    const body = Buffer.from(text.slice(offset), "utf8").subarray(0, Number(last[1])).toString("utf8");
    return { headers, body };
  }
  return { headers };
}
