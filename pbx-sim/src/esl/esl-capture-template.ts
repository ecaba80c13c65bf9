import { type Segments, splitLiteral, splitSegments } from "../shared/template-segments.js";
import { type EslCaptureFile, eslCaptureHeader, frameHeader } from "./esl-capture-file.js";
import { type EslEvent, eventHeader, parsePlainEvent } from "./esl-event.js";

/** Which call a capture records; decides which of its values are placeholders. */
export type EslTemplateKind = "inbound" | "outbound" | "originate";

/**
 * Values of the recorded call a played call replaces. In a click-to-call capture the customer's
 * number is also the recorder's origination_caller_id_number: the compiler tells the roles apart.
 */
export type EslFactName =
  | "extension"
  | "extensionName"
  /** The static contact port of the recorded phone (`127.0.0.1:6001` for 1001). */
  | "phonePort"
  | "callerNumber"
  /** The caller's number with its non-digits dropped (variable_sip_from_user_stripped). */
  | "callerDigits"
  | "callerName"
  | "did"
  | "destination"
  | "originationNumber"
  | "originationName";

export type EslPlaceholder =
  /** A µs timestamp (`Event-Date-Timestamp`, `*_uepoch`, `Caller-*-Time`) of the recorded instant `us`. */
  | { readonly kind: "micros"; readonly us: number }
  /** A `*_epoch` second. */
  | { readonly kind: "epoch"; readonly sec: number }
  /** `2026-12-01 12:02:16` (Event-Date-Local, `*_stamp`): the recorded box ran on UTC, the simulated one does too. */
  | { readonly kind: "localDate"; readonly sec: number }
  /** `Tue, 01 Dec 2026 12:02:16 GMT` (Event-Date-GMT). */
  | { readonly kind: "gmtDate"; readonly sec: number }
  /** Event-Sequence: stamped when the event goes out, so it grows on the wire as FreeSWITCH's does. */
  | { readonly kind: "sequence" }
  | { readonly kind: "coreUuid" }
  /** A channel or job uuid of the call, or a FreeSWITCH-made SIP Call-ID: a fresh uuid per played call. */
  | { readonly kind: "uuid"; readonly index: number }
  /** A SIPp Call-ID `<n>-<pid>@<host>`: a new `<n>` per recorded Call-ID, the rest kept. */
  | { readonly kind: "sipCallId"; readonly index: number; readonly suffix: string }
  /** variable_session_id: FreeSWITCH's session counter, relative to the call's first session. */
  | { readonly kind: "sessionId"; readonly offset: number }
  | { readonly kind: "fact"; readonly name: EslFactName }
  /** The Job-UUID of the bgapi being answered. */
  | { readonly kind: "jobUuid" }
  /** The originate's arguments as sent (Job-Command-Arg, API-Command-Argument). */
  | { readonly kind: "originateArg" }
  /** A duration (`variable_duration`, `mduration`, `uduration`) in `unit`s that spans the ring of a no-answer originate. */
  | { readonly kind: "ringSpan"; readonly value: number; readonly unit: number };

export type EslSegments = Segments<EslPlaceholder>;

export type EslTemplateHeader =
  | { readonly name: string; readonly value: EslSegments }
  /** Where the recorded originate's `{vars}` were: one `variable_<name>` line per requested variable. */
  | { readonly originateVariables: true };

export interface EslTemplateEvent {
  /** Recorded Event-Date-Timestamp in µs. */
  readonly atUs: number;
  readonly name: string;
  readonly headers: readonly EslTemplateHeader[];
  readonly body?: EslSegments;
}

export interface EslCaptureTemplate {
  readonly name: string;
  readonly kind: EslTemplateKind;
  /** The recorded values the facts replace. */
  readonly facts: Readonly<Partial<Record<EslFactName, string>>>;
  readonly events: readonly EslTemplateEvent[];
  readonly uuidCount: number;
  readonly sipCallIdCount: number;
  /** How many session ids the call takes. */
  readonly sessionSpan: number;
  /** Click-to-call: the recorder's originate_timeout in s. */
  readonly originateTimeoutSec?: number;
  /** Click-to-call: µs from the first event to the BACKGROUND_JOB (the agent answering or the originate giving up). */
  readonly jobResultUs?: number;
  /** No-answer click-to-call: the agent rings until the recorded instant `afterUs`, where originate_timeout fired. */
  readonly ring?: { readonly afterUs: number };
}

// The simulator sends its own; they are not part of a call.
export const NOT_CALL_EVENTS: ReadonlySet<string> = new Set(["HEARTBEAT", "RE_SCHEDULE"]);
const DAY_US = 86_400_000_000;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const SIP_CALL_ID = /(?<![\w.-])\d+(-\d+@\d+\.\d+\.\d+\.\d+)(?![\w.])/g;
const MICROS = /(?<!\d)\d{16}(?!\d)/g;
const EPOCH = /(?<!\d)\d{10}(?!\d)/g;
const LOCAL_DATE = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g;
const GMT_DATE =
  /(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT/g;
const RING_SPANS: Readonly<Record<string, number>> = {
  variable_duration: 1_000_000,
  variable_mduration: 1000,
  variable_uduration: 1,
};
// Where an originate's caller ID shows (rather than the number dialled): every leg's ANI and original
// caller ID, and on the agent leg its own caller ID and SIP From.
const ORIGINATION_NUMBER_ANY_LEG = /(ANI|Orig-Caller-ID-Number)$/;
const ORIGINATION_NUMBER_AGENT_LEG =
  /^(Caller-Caller-ID-Number|variable_(sip_from_user|sip_from_uri|sip_full_from|pre_transfer_caller_id_number))$/;

interface Compiler {
  readonly kind: EslTemplateKind;
  readonly literals: ReadonlyArray<readonly [EslFactName, string]>;
  readonly coreUuid: string;
  readonly fromUs: number;
  readonly toUs: number;
  readonly firstSessionId: number;
  readonly uuidIndex: Map<string, number>;
  readonly sipCallIdIndex: Map<string, number>;
  readonly ringSpans: boolean;
}

function indexOf(index: Map<string, number>, value: string): number {
  const known = index.get(value);
  if (known !== undefined) return known;
  index.set(value, index.size);
  return index.size - 1;
}

const parseLocalDate = (text: string) => Date.parse(`${text.replace(" ", "T")}Z`) / 1000;
const parseGmtDate = (text: string) => Date.parse(text) / 1000;

/** The role a recorded click-to-call value plays where it is (see ORIGINATION_NUMBER_*). */
function originateRole(fact: EslFactName, key: string, agentLeg: boolean): EslFactName {
  if (fact !== "destination") return fact;
  if (ORIGINATION_NUMBER_ANY_LEG.test(key)) return "originationNumber";
  return agentLeg && ORIGINATION_NUMBER_AGENT_LEG.test(key) ? "originationNumber" : fact;
}

function compileValue(compiler: Compiler, key: string, value: string, agentLeg: boolean): EslSegments {
  if (key === "Event-Sequence") return [{ kind: "sequence" }];
  if (key === "Core-UUID") return [{ kind: "coreUuid" }];
  if (key === "Job-UUID") return [{ kind: "jobUuid" }];
  if (key === "Job-Command-Arg" || key === "API-Command-Argument") return [{ kind: "originateArg" }];
  if (key === "variable_session_id") return [{ kind: "sessionId", offset: Number(value) - compiler.firstSessionId }];
  const unit = RING_SPANS[key];
  if (compiler.ringSpans && unit !== undefined) return [{ kind: "ringSpan", value: Number(value), unit }];

  const inRange = (us: number) => us >= compiler.fromUs - DAY_US && us <= compiler.toUs + DAY_US;
  let segments: EslSegments = [value];
  segments = splitSegments(segments, GMT_DATE, (match) => ({ kind: "gmtDate", sec: parseGmtDate(match[0]) }));
  segments = splitSegments(segments, LOCAL_DATE, (match) => ({ kind: "localDate", sec: parseLocalDate(match[0]) }));
  segments = splitSegments(segments, UUID, (match) =>
    match[0] === compiler.coreUuid
      ? { kind: "coreUuid" }
      : { kind: "uuid", index: indexOf(compiler.uuidIndex, match[0]) },
  );
  segments = splitSegments(segments, SIP_CALL_ID, (match) => ({
    kind: "sipCallId",
    index: indexOf(compiler.sipCallIdIndex, match[0]),
    suffix: match[1] ?? "",
  }));
  segments = splitSegments(segments, MICROS, (match) =>
    inRange(Number(match[0])) ? { kind: "micros", us: Number(match[0]) } : undefined,
  );
  segments = splitSegments(segments, EPOCH, (match) =>
    inRange(Number(match[0]) * 1_000_000) ? { kind: "epoch", sec: Number(match[0]) } : undefined,
  );
  for (const [fact, literal] of compiler.literals) {
    segments = splitLiteral(segments, literal, () => ({
      kind: "fact",
      name: compiler.kind === "originate" ? originateRole(fact, key, agentLeg) : fact,
    }));
  }
  return segments;
}

/** The `{a=1,b='x y'}` variables of a recorded originate command, names in order. */
function recordedOriginateVariables(command: string | undefined): string[] {
  const block = /originate \{([^}]*)\}/.exec(command ?? "")?.[1];
  if (!block) return [];
  return block.split(",").map((item) => item.slice(0, item.indexOf("=")));
}

/**
 * Compiles a recorded call: every id, time, number and name of it becomes a placeholder; header
 * order, spelling and the events FreeSWITCH interleaves stay as recorded.
 */
export function compileEslCaptureTemplate(
  name: string,
  kind: EslTemplateKind,
  capture: EslCaptureFile,
  facts: Readonly<Partial<Record<EslFactName, string>>>,
): EslCaptureTemplate {
  const events: EslEvent[] = capture.frames
    .filter((frame) => frameHeader(frame, "Content-Type") === "text/event-plain")
    .map((frame) => parsePlainEvent(frame.body))
    .filter((event) => !NOT_CALL_EVENTS.has(eventHeader(event, "Event-Name") ?? ""));
  const first = events[0];
  if (!first) throw new Error(`${name}: no events`);
  const atUs = (event: EslEvent) => Number(eventHeader(event, "Event-Date-Timestamp"));
  const times = events.map(atUs);
  const sessionIds = events.flatMap((event) => {
    const id = eventHeader(event, "variable_session_id");
    return id === undefined ? [] : [Number(id)];
  });
  const literals = (Object.entries(facts) as Array<[EslFactName, string]>).sort(([, a], [, b]) => b.length - a.length);
  for (const [fact, literal] of literals) {
    if (!events.some((event) => event.headers.some(([, value]) => value.includes(literal)))) {
      throw new Error(`${name}: fact ${fact} ${JSON.stringify(literal)} not in the capture`);
    }
  }

  const command = eslCaptureHeader(capture, "commands sent");
  const originateVariables = new Set(recordedOriginateVariables(command).map((variable) => `variable_${variable}`));
  const timeout = /originate_timeout=(\d+)/.exec(command ?? "")?.[1];
  const job = events.find((event) => eventHeader(event, "Event-Name") === "BACKGROUND_JOB");
  const jobFailed = job?.body?.startsWith("-ERR") ?? false;
  const hangup = events.find((event) => eventHeader(event, "Event-Name") === "CHANNEL_HANGUP");
  const ring = kind === "originate" && jobFailed && hangup ? { afterUs: atUs(hangup) - 1 } : undefined;

  const compiler: Compiler = {
    kind,
    literals,
    coreUuid: eventHeader(first, "Core-UUID") ?? "",
    fromUs: Math.min(...times),
    toUs: Math.max(...times),
    firstSessionId: Math.min(...sessionIds),
    uuidIndex: new Map(),
    sipCallIdIndex: new Map(),
    ringSpans: ring !== undefined,
  };
  const agentChannel = facts.extension === undefined ? undefined : `sofia/internal/${facts.extension}@`;

  const compiled = events.map((event): EslTemplateEvent => {
    const agentLeg = agentChannel !== undefined && (eventHeader(event, "Channel-Name") ?? "").startsWith(agentChannel);
    const headers: EslTemplateHeader[] = [];
    let variablesPlaced = false;
    for (const [key, value] of event.headers) {
      if (originateVariables.has(key)) {
        if (!variablesPlaced) headers.push({ originateVariables: true });
        variablesPlaced = true;
        continue;
      }
      headers.push({ name: key, value: compileValue(compiler, key, value, agentLeg) });
    }
    const body = event.body === undefined ? undefined : compileValue(compiler, "", event.body, agentLeg);
    return { atUs: atUs(event), name: eventHeader(event, "Event-Name") ?? "", headers, ...(body ? { body } : {}) };
  });

  return {
    name,
    kind,
    facts,
    events: compiled,
    uuidCount: compiler.uuidIndex.size,
    sipCallIdCount: compiler.sipCallIdIndex.size,
    sessionSpan: sessionIds.length === 0 ? 0 : Math.max(...sessionIds) - compiler.firstSessionId + 1,
    ...(timeout !== undefined ? { originateTimeoutSec: Number(timeout) } : {}),
    ...(job ? { jobResultUs: atUs(job) - compiler.fromUs } : {}),
    ...(ring ? { ring } : {}),
  };
}
