import { formatAmiTimestamp } from "./ami-time.js";
import type {
  CaptureTemplate,
  FactName,
  Placeholder,
  RequestField,
  Segment,
  TemplateBlock,
} from "./capture-template.js";

/** What a played call is about: the numbers and names put in place of the recorded ones. */
export interface CallValues {
  readonly facts: Readonly<Record<FactName, string>>;
  /** The Originate being played; an undefined field drops its line (ActionID when none was sent). */
  readonly request?: Readonly<Record<RequestField, string | undefined>>;
  /** The Originate's channel variables in the order the client sent them. */
  readonly variables?: ReadonlyArray<readonly [name: string, value: string]>;
}

/** The fresh identity of a played call, handed out by the simulator's counters. */
export interface CallAllocation {
  /** Recorded → played time, a whole number of seconds so every second-resolution field stays consistent. */
  readonly shiftUs: number;
  /** Whole seconds added to the ring of a timed-out Originate (requested Timeout minus recorded). */
  readonly ringDeltaUs: number;
  /** Uniqueid counter of the call's first channel. */
  readonly firstUniqueid: number;
  /** First channel-name counter per technology (`PJSIP`, `Local`). */
  readonly firstChannel: Readonly<Record<string, number>>;
  readonly uuids: readonly string[];
  readonly firstSipCallId: number;
  /** Epoch second the PBX started (QueueMemberStatus LoginTime). */
  readonly bootSec: number;
}

export interface RenderedEvent {
  /** Played `Timestamp` in µs. */
  readonly atUs: number;
  readonly event: string;
  readonly privilege: string;
  /** The bytes to write: CRLF lines and the closing blank line. */
  readonly text: string;
  readonly lines: ReadonlyArray<readonly [key: string, value: string]>;
}

const formatDate = (sec: number) => new Date(sec * 1000).toISOString().slice(0, 19).replace("T", " ");

const hex8 = (value: number) => value.toString(16).padStart(8, "0");

/**
 * The order Asterisk publishes an Originate's variables in: main/manager.c builds the list reversed
 * and sets it on Local;1 in that order; each set goes to the head of ;1's variables, which are copied
 * to ;2 in list order (core_unreal.c), so ;2 sees them as sent, once per name.
 */
export function originateVariableOrder(variables: ReadonlyArray<readonly [string, string]>) {
  const set = [...variables].reverse();
  const copy: Array<readonly [string, string]> = [];
  for (const variable of set) {
    const existing = copy.findIndex(([name]) => name === variable[0]);
    if (existing >= 0) copy.splice(existing, 1);
    copy.unshift(variable);
  }
  return { set, copy };
}

/** Renders a template into the events of one played call. */
export function renderCall(template: CaptureTemplate, values: CallValues, allocation: CallAllocation): RenderedEvent[] {
  const ringAfterUs = template.ring?.afterUs;
  const timeAt = (us: number) =>
    us + allocation.shiftUs + (ringAfterUs !== undefined && us > ringAfterUs ? allocation.ringDeltaUs : 0);

  const render = (segments: readonly Segment[]): string | undefined => {
    let text = "";
    for (const segment of segments) {
      if (typeof segment === "string") {
        text += segment;
        continue;
      }
      const value = renderPlaceholder(segment);
      if (value === undefined) return undefined;
      text += value;
    }
    return text;
  };

  const renderPlaceholder = (placeholder: Placeholder): string | undefined => {
    switch (placeholder.kind) {
      case "time":
        return formatAmiTimestamp(timeAt(placeholder.us));
      case "date":
        return formatDate(Math.floor(timeAt(placeholder.sec * 1_000_000) / 1_000_000));
      case "bootTime":
        return String(allocation.bootSec);
      case "uniqueid": {
        const id = template.uniqueids[placeholder.index];
        if (!id) throw new Error(`uniqueid ${placeholder.index} not in template`);
        const epoch = Math.floor(timeAt(id.createdUs) / 1_000_000) + id.epochLag;
        return `${epoch}.${allocation.firstUniqueid + id.counterOffset}`;
      }
      case "channel": {
        const counter = (allocation.firstChannel[placeholder.tech] ?? 0) + placeholder.offset;
        return `${placeholder.tech}/${render(placeholder.resource) ?? ""}-${hex8(counter)}${placeholder.half}`;
      }
      case "uuid":
        return allocation.uuids[placeholder.index] ?? "";
      case "sipCallId":
        return `${allocation.firstSipCallId + placeholder.index}${placeholder.suffix}`;
      case "fact":
        return values.facts[placeholder.name];
      case "request":
        return values.request?.[placeholder.field];
      case "seconds":
        return String(placeholder.value + (placeholder.spansRing ? allocation.ringDeltaUs / 1_000_000 : 0));
    }
  };

  const renderBlock = (block: TemplateBlock, override?: readonly [name: string, value: string]): RenderedEvent => {
    const lines: Array<readonly [string, string]> = [];
    let text = "";
    let privilege = "";
    for (const line of block.lines) {
      let value: string | undefined;
      if (override && line.key === "Variable") value = override[0];
      else if (override && line.key === "Value") value = override[1];
      else value = render(line.segments);
      if (value === undefined) continue;
      if (line.key === "Privilege") privilege = value;
      lines.push([line.key, value]);
      text += `${line.key}${line.separator}${value}\r\n`;
    }
    return { atUs: timeAt(block.atUs), event: block.event, privilege, text: `${text}\r\n`, lines };
  };

  const order = originateVariableOrder(values.variables ?? []);
  return template.blocks.flatMap((block) => {
    if (!block.originateVariable) return [renderBlock(block)];
    return order[block.originateVariable].map((variable) => renderBlock(block, variable));
  });
}
