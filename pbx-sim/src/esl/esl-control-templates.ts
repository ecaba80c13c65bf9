import { readFile } from "node:fs/promises";
import { eslFixtureUrl } from "./esl-call-templates.js";
import { type EslCaptureFile, eslCaptureHeader, frameHeader, parseEslCaptureFile } from "./esl-capture-file.js";
import { compileEslCaptureTemplate, type EslCaptureTemplate, NOT_CALL_EVENTS } from "./esl-capture-template.js";
import { eventHeader, parsePlainEvent } from "./esl-event.js";

/** The calls a test can hold up until a control command comes, each with the capture that shows what it does. */
export type EslControlScenario = "ringing" | "answered" | "blindTransfer" | "attendedTransfer" | "spy" | "park";

/** A capture split where the recorder's command went out. */
export interface EslControlTemplate {
  readonly template: EslCaptureTemplate;
  /** The events before the command: the call rings, is answered and talks. */
  readonly headEvents: number;
  /** The api command whose arrival plays the rest (`uuid_transfer`…); "" for none (01a: only the caller's hangup follows). */
  readonly command: string;
}

const CALLER = {
  extension: "1001",
  extensionName: "Alice Smith",
  phonePort: "6001",
  callerNumber: "+35799123456",
  callerDigits: "35799123456",
  callerName: "John Customer",
  did: "35722555101",
} as const;

/** Each scenario's capture, and the event a capture without a command is held before. */
const FILES: Record<EslControlScenario, string | readonly [file: string, holdBefore: string]> = {
  ringing: ["fs-real-01a-inbound-answered-A.txt", "CHANNEL_ANSWER"],
  answered: "fs-real-01a-inbound-answered-A.txt",
  blindTransfer: "fs-real-14n-blind-transfer-A.txt",
  attendedTransfer: "fs-real-15o-attended-transfer-A.txt",
  spy: "fs-real-19s-eavesdrop-A.txt",
  park: "fs-real-21u-park-pickup-A.txt",
};

const isCallEvent = (body: string) => !NOT_CALL_EVENTS.has(eventHeader(parsePlainEvent(body), "Event-Name") ?? "");

/**
 * Where the recorder's command went: the call events before the reply to its bgapi. A capture
 * with no command (01a) is split at its first CHANNEL_HANGUP, so the held-up call is answered
 * and talking, and its own hangup is what follows (`ringing`: at its first CHANNEL_ANSWER, 1001
 * rings until the wait ends, then answers).
 */
function splitOf(capture: EslCaptureFile, holdBefore = "CHANNEL_HANGUP"): number {
  let events = 0;
  for (const frame of capture.frames) {
    const type = frameHeader(frame, "Content-Type");
    if (type === "command/reply" && frameHeader(frame, "Reply-Text")?.startsWith("+OK Job-UUID")) return events;
    if (type !== "text/event-plain" || !isCallEvent(frame.body)) continue;
    if (eventHeader(parsePlainEvent(frame.body), "Event-Name") === holdBefore) return events;
    events++;
  }
  throw new Error("control capture has neither a command reply nor a hangup");
}

/** The recorded command's name (`bgapi uuid_transfer …` → `uuid_transfer`), "" when the capture sent none. */
function commandOf(capture: EslCaptureFile): string {
  return /bgapi (\S+)/.exec(eslCaptureHeader(capture, "commands sent") ?? "")?.[1] ?? "";
}

/** Reads and compiles the captures of the controlled calls. */
export async function loadEslControlTemplates(): Promise<Record<EslControlScenario, EslControlTemplate>> {
  const entries = await Promise.all(
    Object.entries(FILES).map(async ([scenario, entry]) => {
      const [file, holdBefore] = typeof entry === "string" ? [entry, undefined] : entry;
      const capture = parseEslCaptureFile(await readFile(eslFixtureUrl(file)));
      const template = compileEslCaptureTemplate(file, "inbound", capture, CALLER);
      const command = holdBefore === undefined ? commandOf(capture) : "";
      return [scenario, { template, headEvents: splitOf(capture, holdBefore), command }] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<EslControlScenario, EslControlTemplate>;
}
