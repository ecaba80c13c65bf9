import { splitLiteral, splitSegments } from "../shared/template-segments.js";
import { type AmiBlock, type AmiLine, blockValue } from "./ami-block.js";
import { type CaptureFile, captureHeader } from "./capture-file.js";

/**
 * Which call a capture records; decides which of its values are placeholders. `control`: an
 * inbound call that a client's action changes once it is up (ast-real-14n, 15o, 19s, 21u).
 */
export type TemplateKind = "inbound" | "outbound" | "originate" | "control";

/**
 * Values of the recorded call that a played call replaces. In a click-to-call capture the agent's
 * own number and name double as the Originate's CallerID: the compiler tells the two roles apart
 * as `callerIdNumber`/`callerIdName`.
 */
export type FactName =
  | "extension"
  | "extensionName"
  | "callerNumber"
  | "callerName"
  | "did"
  | "destination"
  | "callerIdNumber"
  | "callerIdName";

/** A value of the Originate being answered (OriginateResponse echoes them). */
export type RequestField = "actionId" | "channel" | "context" | "exten" | "callerIdNumber" | "callerIdName";

export type Placeholder =
  /** `Timestamp:`-style `<epoch>.<micro>` of the recorded instant `us`. */
  | { readonly kind: "time"; readonly us: number }
  /** CEL EventTime / Cdr StartTime style `YYYY-MM-DD HH:MM:SS` of the recorded second `sec`. */
  | { readonly kind: "date"; readonly sec: number }
  /** QueueMemberStatus LoginTime: when the member was added, i.e. when the PBX started. */
  | { readonly kind: "bootTime" }
  | { readonly kind: "uniqueid"; readonly index: number }
  /** `PJSIP/1001-00000043`, `Local/1001@from-internal-00000005;1`: a new per-technology counter. */
  | {
      readonly kind: "channel";
      readonly tech: string;
      readonly offset: number;
      readonly resource: readonly Segment[];
      readonly half: string;
    }
  | { readonly kind: "uuid"; readonly index: number }
  /** A SIPp Call-ID `<n>-<pid>@<host>`: a new `<n>` per recorded Call-ID, the rest kept. */
  | { readonly kind: "sipCallId"; readonly index: number; readonly suffix: string }
  | { readonly kind: "fact"; readonly name: FactName }
  | { readonly kind: "request"; readonly field: RequestField }
  /** Cdr Duration/BillableSeconds: recorded seconds, longer by the ring-time change when they span it. */
  | { readonly kind: "seconds"; readonly value: number; readonly spansRing: boolean };

export type Segment = string | Placeholder;

export interface TemplateLine {
  readonly key: string;
  readonly separator: string;
  readonly segments: readonly Segment[];
}

export interface TemplateBlock {
  /** Recorded `Timestamp` in µs. */
  readonly atUs: number;
  readonly event: string;
  readonly lines: readonly TemplateLine[];
  /** The VarSet of the recorder's Originate variable: rendered once per requested variable. */
  readonly originateVariable?: "set" | "copy";
}

export interface TemplateUniqueid {
  /** Counter relative to the call's lowest one (ids of a call are consecutive in Asterisk). */
  readonly counterOffset: number;
  /** Recorded µs of the first event naming the channel (its creation). */
  readonly createdUs: number;
  /** Recorded epoch second minus the second of `createdUs` (0 unless created just before a second turned). */
  readonly epochLag: number;
}

export interface CaptureFacts {
  readonly extension: string;
  readonly extensionName: string;
  readonly callerNumber?: string;
  readonly callerName?: string;
  readonly did?: string;
  readonly destination?: string;
  /** Click-to-call: the variable the recorder's Originate set (`CRM_ID`). */
  readonly originateVariable?: string;
  /** Click-to-call: the recorder's Originate Timeout in ms. */
  readonly originateTimeoutMs?: number;
}

export interface CaptureTemplate {
  readonly name: string;
  readonly kind: TemplateKind;
  readonly facts: CaptureFacts;
  readonly blocks: readonly TemplateBlock[];
  readonly uniqueids: readonly TemplateUniqueid[];
  /** How many counters a played call takes, per channel technology. */
  readonly channelSpans: Readonly<Record<string, number>>;
  readonly uuidCount: number;
  readonly sipCallIdCount: number;
  /** Click-to-call: µs from the first event to the OriginateResponse (the agent leg answering, or giving up). */
  readonly originateResponseUs?: number;
  /** Click-to-call that timed out: the agent rings until the recorded instant `afterUs`, then the Originate gives up. */
  readonly ring?: { readonly afterUs: number };
  /** Click-to-call: whether the recorded Originate failed. */
  readonly originateFailed?: boolean;
  /**
   * A `control` capture: the first `headEvents` events are the call up to the recorder's action,
   * the rest what the action made of it; `message` is the action's recorded `Response: Success`
   * Message. `ring.afterUs` is the head's last event, so a later action shifts only the tail.
   */
  readonly control?: { readonly headEvents: number; readonly message: string };
}

const TIME_KEYS = new Set(["Timestamp", "SentNTP"]);
const DATE_KEYS = new Set(["EventTime", "StartTime", "AnswerTime", "EndTime"]);
const UNIQUEID_KEY = /^(Dest|LocalOne|LocalTwo)?(Uniqueid|Linkedid)$/i;
const CHANNEL_NAME = /(PJSIP|Local)\/([^\s,;"<>|]+?)-([0-9a-f]{8})(;[12])?(?![0-9a-f])/g;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const SIP_CALL_ID = /(?<![\w.-])\d+(-\d+@\d+\.\d+\.\d+\.\d+)(?![\w.])/g;
const ID_TOKEN = /(?<![\d.])\d+\.\d+(?![\d.])/g;
// Keys whose purely numeric values can be a party's number; other numeric values (causes, counts,
// durations, states) are never touched, so an extension 3 cannot turn `Cause: 3` into something else.
const NUMERIC_IDENTITY_KEY =
  /^((Dest|LocalOne|LocalTwo)?(CallerID|ConnectedLine)Num|CallerID(num|ani|dnid|rdnis)|(Dest|LocalOne|LocalTwo)?Exten|Extension|DialString|Destination|Source)$/;
const NON_IDENTITY_VARIABLE = /TIME(_MS)?$|^RTPAUDIOQOS/;
// Click-to-call: keys that hold a party's caller ID; the agent leg's own ones stay the agent's.
const CALLER_ID_KEY =
  /^((Dest|LocalOne|LocalTwo)?(CallerID|ConnectedLine)(Num|Name)|CallerID(num|name|ani|dnid|rdnis)|CallerID|Source)$/;
const OWN_IDENTITY_KEY = /^((Dest|LocalOne|LocalTwo)?CallerID(Num|Name)|CallerID(num|name|ani))$/;

/** The index of `value` in `index`, adding it when new. */
function indexOf(index: Map<string, number>, value: string): number {
  const known = index.get(value);
  if (known !== undefined) return known;
  index.set(value, index.size);
  return index.size - 1;
}

function parseTimestampUs(value: string): number {
  const match = /^(\d+)\.(\d{6})$/.exec(value);
  if (!match) throw new Error(`not a <epoch>.<micro> timestamp: ${value}`);
  return Number(match[1]) * 1_000_000 + Number(match[2]);
}

function parseDateSec(value: string): number | undefined {
  const match = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)$/.exec(value);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  return Date.UTC(year ?? 0, (month ?? 1) - 1, day, hour, minute, second) / 1000;
}

interface LineContext {
  readonly block: AmiBlock;
  readonly event: string;
  readonly line: AmiLine;
}

interface Compiler {
  readonly kind: TemplateKind;
  readonly facts: CaptureFacts;
  readonly literals: ReadonlyArray<readonly [FactName, string]>;
  readonly uniqueidIndex: ReadonlyMap<string, number>;
  readonly channelOffsets: ReadonlyMap<string, number>;
  readonly uuidIndex: Map<string, number>;
  readonly sipCallIdIndex: Map<string, number>;
  readonly ring: { readonly afterUs: number } | undefined;
}

/** The channel a key describes: `Dest*` keys the DestChannel, `LocalOne*` the LocalOneChannel… */
function subjectChannel(block: AmiBlock, key: string): string | undefined {
  const prefix = /^(Dest|LocalOne|LocalTwo)/.exec(key)?.[1] ?? "";
  return blockValue(block, `${prefix}Channel`);
}

/**
 * In a click-to-call capture the agent's number and name are also the Originate's CallerID:
 * caller-ID keys carry the CallerID, except the agent leg's own identity; dialplan text carries it
 * after `from `, inside quotes or angle brackets (`Calling extension 1001 from "Alice Smith" <1001>`).
 */
function originateRole(fact: FactName, context: LineContext, before: string, extension: string): FactName {
  if (fact !== "extension" && fact !== "extensionName") return fact;
  const callerIdFact = fact === "extension" ? "callerIdNumber" : "callerIdName";
  const { key } = context.line;
  if (CALLER_ID_KEY.test(key)) {
    const agentLeg = subjectChannel(context.block, key)?.startsWith(`PJSIP/${extension}-`) ?? false;
    return agentLeg && OWN_IDENTITY_KEY.test(key) ? fact : callerIdFact;
  }
  if ((key === "AppData" || key === "LastData") && /(from |"|<)$/.test(before)) return callerIdFact;
  return fact;
}

function compileFacts(compiler: Compiler, segments: readonly Segment[], context: LineContext): Segment[] {
  let out = [...segments];
  for (const [fact, literal] of compiler.literals) {
    out = splitLiteral(out, literal, (before) => ({
      kind: "fact",
      name: compiler.kind === "originate" ? originateRole(fact, context, before, compiler.facts.extension) : fact,
    }));
  }
  return out;
}

function originateResponseField(line: AmiLine): RequestField | undefined {
  switch (line.key) {
    case "ActionID":
      return "actionId";
    case "Context":
      return "context";
    case "Exten":
      return "exten";
    case "CallerIDNum":
      return "callerIdNumber";
    case "CallerIDName":
      return "callerIdName";
    case "Channel":
      // A failed Originate names the channel as requested (no `-0000000a;1` suffix).
      return /-[0-9a-f]{8};[12]$/.test(line.value) ? undefined : "channel";
    default:
      return undefined;
  }
}

function compileCdrSeconds(compiler: Compiler, context: LineContext): Placeholder | undefined {
  const { key, value } = context.line;
  if (context.event !== "Cdr" || !compiler.ring || (key !== "Duration" && key !== "BillableSeconds")) return undefined;
  const from = parseDateSec(blockValue(context.block, key === "Duration" ? "StartTime" : "AnswerTime") ?? "");
  const to = parseDateSec(blockValue(context.block, "EndTime") ?? "");
  const ringSec = compiler.ring.afterUs / 1_000_000;
  const spansRing = from !== undefined && to !== undefined && from <= ringSec && to > ringSec;
  return { kind: "seconds", value: Number(value), spansRing };
}

function compileValue(compiler: Compiler, context: LineContext): Segment[] {
  const { key, value } = context.line;
  if (TIME_KEYS.has(key)) return [{ kind: "time", us: parseTimestampUs(value) }];
  const dateSec = DATE_KEYS.has(key) ? parseDateSec(value) : undefined;
  if (dateSec !== undefined) return [{ kind: "date", sec: dateSec }];
  if (key === "LoginTime" && /^\d+$/.test(value)) return [{ kind: "bootTime" }];
  const seconds = compileCdrSeconds(compiler, context);
  if (seconds) return [seconds];
  if (context.event === "OriginateResponse") {
    const field = originateResponseField(context.line);
    if (field) return [{ kind: "request", field }];
  }

  let segments: Segment[] = [value];
  segments = splitSegments(segments, CHANNEL_NAME, (match) => {
    const [name, tech = "", resource = "", hex = "", half = ""] = match;
    const offset = compiler.channelOffsets.get(`${tech}/${hex}`);
    if (offset === undefined) throw new Error(`channel ${name} not indexed`);
    return { kind: "channel", tech, offset, resource: compileFacts(compiler, [resource], context), half };
  });
  segments = splitSegments(segments, UUID, (match) => ({ kind: "uuid", index: indexOf(compiler.uuidIndex, match[0]) }));
  segments = splitSegments(segments, SIP_CALL_ID, (match) => ({
    kind: "sipCallId",
    index: indexOf(compiler.sipCallIdIndex, match[0]),
    suffix: match[1] ?? "",
  }));
  segments = splitSegments(segments, ID_TOKEN, (match) => {
    const index = compiler.uniqueidIndex.get(match[0]);
    return index === undefined ? undefined : { kind: "uniqueid", index };
  });

  const variable = blockValue(context.block, "Variable") ?? "";
  const numericIdentity = NUMERIC_IDENTITY_KEY.test(key) || (key === "Value" && !NON_IDENTITY_VARIABLE.test(variable));
  if (/^\+?\d+$/.test(value) && !numericIdentity) return segments;
  return compileFacts(compiler, segments, context);
}

function extractFacts(kind: TemplateKind, capture: CaptureFile, events: readonly AmiBlock[]): CaptureFacts {
  const first = (event: string, where: (block: AmiBlock) => boolean = () => true) => {
    const found = events.find((block) => blockValue(block, "Event") === event && where(block));
    if (!found) throw new Error(`capture has no ${event} event`);
    return found;
  };
  const need = (block: AmiBlock, key: string) => {
    const value = blockValue(block, key);
    if (value === undefined || value === "") throw new Error(`capture's ${blockValue(block, "Event")} has no ${key}`);
    return value;
  };
  if (kind === "inbound" || kind === "control") {
    const caller = first("Newchannel");
    const dial = first("DialBegin");
    return {
      callerNumber: need(caller, "CallerIDNum"),
      callerName: need(caller, "CallerIDName"),
      did: need(caller, "Exten"),
      extension: need(dial, "DialString"),
      extensionName: need(dial, "DestCallerIDName"),
    };
  }
  if (kind === "outbound") {
    const caller = first("Newchannel");
    return {
      extension: need(caller, "CallerIDNum"),
      extensionName: need(caller, "CallerIDName"),
      destination: need(caller, "Exten"),
    };
  }
  const scenario = captureHeader(capture, "scenario") ?? "";
  const variable = /Variable:? ([A-Za-z_]\w*)=/.exec(scenario)?.[1];
  const timeout = /Timeout=(\d+)/.exec(scenario)?.[1];
  if (!variable || !timeout) throw new Error("click-to-call capture's scenario names no Variable or Timeout");
  const local = /^Local\/([^@]+)@/.exec(need(first("Newchannel"), "Channel"));
  if (!local?.[1]) throw new Error("click-to-call capture does not start with a Local channel");
  const extension = local[1];
  const agentLeg = first(
    "Newchannel",
    (block) => blockValue(block, "Channel")?.startsWith(`PJSIP/${extension}-`) ?? false,
  );
  return {
    extension,
    extensionName: need(agentLeg, "CallerIDName"),
    destination: need(first("OriginateResponse"), "Exten"),
    originateVariable: variable,
    originateTimeoutMs: Number(timeout),
  };
}

/** A control capture's split: the recorder's action's Response (not the Login's) and the events before it. */
function findControl(capture: CaptureFile): { headEvents: number; message: string } {
  let headEvents = 0;
  for (const block of capture.blocks) {
    const first = block[0];
    if (first?.key === "Response") {
      const message = blockValue(block, "Message") ?? "";
      if (message !== "Authentication accepted") return { headEvents, message };
      continue;
    }
    const event = first?.key === "Event" ? first.value : undefined;
    if (event !== undefined && event !== "FullyBooted" && event !== "SuccessfulAuth") headEvents++;
  }
  throw new Error("control capture has no Response to the recorder's action");
}

/** Blocks of the recorded call: not the login preamble, not Responses to the recorder's own actions. */
function callEvents(capture: CaptureFile): AmiBlock[] {
  return capture.blocks.filter((block) => {
    const event = block[0]?.key === "Event" ? block[0].value : undefined;
    return event !== undefined && event !== "FullyBooted" && event !== "SuccessfulAuth";
  });
}

function indexUniqueids(events: readonly AmiBlock[]): { index: Map<string, number>; ids: TemplateUniqueid[] } {
  const created = new Map<string, number>();
  for (const block of events) {
    const atUs = parseTimestampUs(blockValue(block, "Timestamp") ?? "");
    for (const line of block) {
      if (UNIQUEID_KEY.test(line.key) && /^\d+\.\d+$/.test(line.value) && !created.has(line.value)) {
        created.set(line.value, atUs);
      }
    }
  }
  const counters = [...created.keys()].map((id) => Number(id.split(".")[1]));
  const lowest = Math.min(...counters);
  const index = new Map<string, number>();
  const ids: TemplateUniqueid[] = [];
  for (const [id, createdUs] of created) {
    const [epoch = 0, counter = 0] = id.split(".").map(Number);
    index.set(id, ids.length);
    ids.push({ counterOffset: counter - lowest, createdUs, epochLag: epoch - Math.floor(createdUs / 1_000_000) });
  }
  return { index, ids };
}

function indexChannels(events: readonly AmiBlock[]): { offsets: Map<string, number>; spans: Record<string, number> } {
  const byTech = new Map<string, Set<number>>();
  for (const block of events) {
    for (const line of block) {
      for (const match of line.value.matchAll(CHANNEL_NAME)) {
        const tech = match[1] ?? "";
        const counters = byTech.get(tech) ?? new Set<number>();
        counters.add(Number.parseInt(match[3] ?? "0", 16));
        byTech.set(tech, counters);
      }
    }
  }
  const offsets = new Map<string, number>();
  const spans: Record<string, number> = {};
  for (const [tech, counters] of byTech) {
    const lowest = Math.min(...counters);
    for (const counter of counters) offsets.set(`${tech}/${counter.toString(16).padStart(8, "0")}`, counter - lowest);
    spans[tech] = Math.max(...counters) - lowest + 1;
  }
  return { offsets, spans };
}

/** The ring the Originate timed out on: the quiet stretch before the first HangupRequest. */
function findRing(events: readonly AmiBlock[]): { afterUs: number } {
  const hangup = events.findIndex((block) => blockValue(block, "Event") === "HangupRequest");
  const before = events[hangup - 1];
  if (hangup <= 0 || !before) throw new Error("timed-out click-to-call capture has no HangupRequest");
  return { afterUs: parseTimestampUs(blockValue(before, "Timestamp") ?? "") };
}

/**
 * Compiles a capture into a call template: each recorded id, channel name, number, name and time
 * becomes a placeholder, found once here; everything else (key order, spelling, noise) is kept.
 */
export function compileCaptureTemplate(name: string, kind: TemplateKind, capture: CaptureFile): CaptureTemplate {
  const events = callEvents(capture);
  if (events.length === 0) throw new Error(`${name}: no call events`);
  const facts = extractFacts(kind, capture, events);
  const literals = (
    [
      ["extension", facts.extension],
      ["extensionName", facts.extensionName],
      ["callerNumber", facts.callerNumber],
      ["callerName", facts.callerName],
      ["did", facts.did],
      ["destination", facts.destination],
    ] as Array<[FactName, string | undefined]>
  )
    .filter((entry): entry is [FactName, string] => entry[1] !== undefined)
    // Longest first, so `+35799123456` wins over any shorter number inside it.
    .sort((a, b) => b[1].length - a[1].length);
  const uniqueids = indexUniqueids(events);
  const channels = indexChannels(events);
  const originateResponse = events.find((block) => blockValue(block, "Event") === "OriginateResponse");
  const originateFailed = originateResponse ? blockValue(originateResponse, "Response") !== "Success" : undefined;
  const control = kind === "control" ? findControl(capture) : undefined;
  const lastHead = control === undefined ? undefined : events[control.headEvents - 1];
  const ring = lastHead
    ? { afterUs: parseTimestampUs(blockValue(lastHead, "Timestamp") ?? "") }
    : originateFailed
      ? findRing(events)
      : undefined;
  const compiler: Compiler = {
    kind,
    facts,
    literals,
    uniqueidIndex: uniqueids.index,
    channelOffsets: channels.offsets,
    uuidIndex: new Map(),
    sipCallIdIndex: new Map(),
    ring,
  };

  const blocks = events.map((block): TemplateBlock => {
    const event = blockValue(block, "Event") ?? "";
    const atUs = parseTimestampUs(blockValue(block, "Timestamp") ?? "");
    const lines = block.map((line) => ({
      key: line.key,
      separator: line.separator,
      segments: compileValue(compiler, { block, event, line }),
    }));
    const isOriginateVariable =
      event === "VarSet" &&
      facts.originateVariable !== undefined &&
      blockValue(block, "Variable") === facts.originateVariable;
    if (!isOriginateVariable) return { atUs, event, lines };
    return { atUs, event, lines, originateVariable: blockValue(block, "Channel")?.endsWith(";1") ? "set" : "copy" };
  });

  const startUs = blocks[0]?.atUs ?? 0;
  const originateAtUs = originateResponse
    ? parseTimestampUs(blockValue(originateResponse, "Timestamp") ?? "")
    : undefined;
  return {
    name,
    kind,
    facts,
    blocks,
    uniqueids: uniqueids.ids,
    channelSpans: channels.spans,
    uuidCount: compiler.uuidIndex.size,
    sipCallIdCount: compiler.sipCallIdIndex.size,
    ...(originateAtUs !== undefined ? { originateResponseUs: originateAtUs - startUs } : {}),
    ...(ring ? { ring } : {}),
    ...(originateFailed !== undefined && control === undefined ? { originateFailed } : {}),
    ...(control ? { control } : {}),
  };
}
