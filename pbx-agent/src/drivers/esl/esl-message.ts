import { EslEvent } from "./esl-event.js";
import type { EslFrame } from "./esl-frame-parser.js";

/** What FreeSWITCH said, by frame type. */
export type EslMessage =
  /** The greeting: send `auth <password>`. */
  | { type: "auth_request" }
  /** Reply to a command: `+OK accepted`, `-ERR invalid`, `+OK Job-UUID: …` for bgapi. */
  | { type: "command_reply"; replyText: string; jobUuid: string }
  /** Result of `api`: its text. */
  | { type: "api_response"; text: string }
  /** An event: plain, JSON, a bare header block, or the outbound-mode `connect` reply (CHANNEL_DATA). */
  | { type: "event"; event: EslEvent }
  /** FreeSWITCH is closing (or lingering on) the connection. */
  | { type: "disconnect_notice"; text: string }
  /** FreeSWITCH refused the connection (ACL). */
  | { type: "rude_rejection"; text: string };

export type EslDecodeResult =
  | { message: EslMessage }
  | { skip: "unknown_content_type" | "malformed_event"; detail: string };

/** Frame types nobody here reads: logs and XML events are dropped without counting them as garbage. */
const QUIET_TYPES = new Set(["log/data"]);

/**
 * Decodes a frame. `wants(name)` is asked before an event body is parsed, so the events
 * nobody handles cost one look at their first line.
 */
export function decodeEslFrame(frame: EslFrame, wants: (eventName: string) => boolean): EslDecodeResult | undefined {
  switch (frame.contentType) {
    case "text/event-plain": {
      const name = peekPlainName(frame.body);
      if (name === undefined) return { skip: "malformed_event", detail: "event-plain without Event-Name" };
      if (!wants(name)) return undefined;
      return { message: { type: "event", event: EslEvent.fromPlain(frame.body.toString("utf8")) } };
    }
    case "text/event-json": {
      const name = peekJsonName(frame.body);
      if (name !== undefined && !wants(name)) return undefined;
      let parsed: unknown;
      try {
        parsed = JSON.parse(frame.body.toString("utf8"));
      } catch (error) {
        return { skip: "malformed_event", detail: `event-json: ${(error as Error).message}` };
      }
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        return { skip: "malformed_event", detail: "event-json is not an object" };
      }
      const event = EslEvent.fromJson(parsed as Record<string, unknown>);
      if (event.name === "") return { skip: "malformed_event", detail: "event-json without Event-Name" };
      return wants(event.name) ? { message: { type: "event", event } } : undefined;
    }
    case "": {
      // Headers only, with an Event-Name: an event body without its envelope.
      const name = frame.headers.get("Event-Name") ?? "";
      if (!wants(name)) return undefined;
      return { message: { type: "event", event: EslEvent.fromHeaders(frame.headers) } };
    }
    case "auth/request":
      return { message: { type: "auth_request" } };
    case "command/reply":
      // The outbound-mode `connect` reply is a command/reply carrying the channel's CHANNEL_DATA headers.
      if (frame.headers.has("Event-Name")) {
        const name = frame.headers.get("Event-Name") ?? "";
        return wants(name) ? { message: { type: "event", event: EslEvent.fromHeaders(frame.headers) } } : undefined;
      }
      return {
        message: {
          type: "command_reply",
          replyText: frame.headers.get("Reply-Text") ?? "",
          jobUuid: frame.headers.get("Job-UUID") ?? "",
        },
      };
    case "api/response":
      return { message: { type: "api_response", text: frame.body.toString("utf8") } };
    case "text/disconnect-notice":
      return { message: { type: "disconnect_notice", text: frame.body.toString("utf8") } };
    case "text/rude-rejection":
      return { message: { type: "rude_rejection", text: frame.body.toString("utf8") } };
    default:
      if (QUIET_TYPES.has(frame.contentType)) return undefined;
      return { skip: "unknown_content_type", detail: `Content-Type ${frame.contentType.slice(0, 60)}` };
  }
}

const PLAIN_PREFIX = "Event-Name: ";

function peekPlainName(body: Buffer): string | undefined {
  if (body.toString("latin1", 0, PLAIN_PREFIX.length) !== PLAIN_PREFIX) {
    // Not first: read it the slow way.
    const at = body.indexOf(`\n${PLAIN_PREFIX}`);
    if (at < 0) return undefined;
    return lineAt(body, at + 1 + PLAIN_PREFIX.length);
  }
  return lineAt(body, PLAIN_PREFIX.length);
}

function lineAt(body: Buffer, start: number): string {
  let end = body.indexOf(10, start);
  if (end < 0) end = body.length;
  return body.toString("latin1", start, end).trimEnd();
}

function peekJsonName(body: Buffer): string | undefined {
  const head = body.toString("latin1", 0, 64);
  return /^\{"Event-Name":"([A-Za-z0-9_:-]+)"/.exec(head)?.[1];
}
