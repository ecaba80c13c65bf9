import type { EslCaptureTemplate, EslFactName, EslPlaceholder, EslSegments } from "./esl-capture-template.js";
import type { EslEvent } from "./esl-event.js";
import { formatGmtDate, formatLocalDate } from "./esl-time.js";

/** What a played call is about: the numbers and names put in place of the recorded ones. */
export interface EslCallValues {
  readonly facts: Readonly<Record<EslFactName, string>>;
  /** The originate being answered. */
  readonly jobUuid?: string;
  readonly originateArg?: string;
  /** The originate's `{vars}` in the order sent; each becomes `variable_<name>` on the agent leg. */
  readonly variables?: ReadonlyArray<readonly [name: string, value: string]>;
}

/** The fresh identity of a played call, handed out by the simulator's counters. */
export interface EslCallAllocation {
  /** Recorded → played time, whole seconds so second and µs fields stay as consistent as recorded. */
  readonly shiftUs: number;
  /** Whole seconds added to the ring of a no-answer originate (requested originate_timeout minus recorded). */
  readonly ringDeltaUs: number;
  readonly coreUuid: string;
  readonly uuids: readonly string[];
  readonly firstSipCallId: number;
  readonly firstSessionId: number;
}

/** An event of a played call, ready but for its Event-Sequence, stamped as it goes out. */
export interface RenderedEslEvent {
  /** Played Event-Date-Timestamp in µs. */
  readonly atUs: number;
  readonly name: string;
  readonly event: EslEvent;
}

/** Renders a template into the events of one played call. */
export function renderEslCall(
  template: EslCaptureTemplate,
  values: EslCallValues,
  allocation: EslCallAllocation,
): RenderedEslEvent[] {
  const ringAfterUs = template.ring?.afterUs;
  const timeAt = (us: number) =>
    us + allocation.shiftUs + (ringAfterUs !== undefined && us > ringAfterUs ? allocation.ringDeltaUs : 0);
  const secondAt = (sec: number) => Math.floor(timeAt(sec * 1_000_000) / 1_000_000);

  const placeholder = (segment: EslPlaceholder): string => {
    switch (segment.kind) {
      case "micros":
        return String(timeAt(segment.us));
      case "epoch":
        return String(secondAt(segment.sec));
      case "localDate":
        return formatLocalDate(secondAt(segment.sec));
      case "gmtDate":
        return formatGmtDate(secondAt(segment.sec));
      case "sequence":
        return "";
      case "coreUuid":
        return allocation.coreUuid;
      case "uuid":
        return allocation.uuids[segment.index] ?? "";
      case "sipCallId":
        return `${allocation.firstSipCallId + segment.index}${segment.suffix}`;
      case "sessionId":
        return String(allocation.firstSessionId + segment.offset);
      case "fact":
        return values.facts[segment.name];
      case "jobUuid":
        return values.jobUuid ?? "";
      case "originateArg":
        return values.originateArg ?? "";
      case "ringSpan":
        return String(segment.value + Math.round(allocation.ringDeltaUs / segment.unit));
    }
  };
  const render = (segments: EslSegments) =>
    segments.map((segment) => (typeof segment === "string" ? segment : placeholder(segment))).join("");

  return template.events.map((templateEvent) => {
    const headers: Array<readonly [string, string]> = [];
    for (const header of templateEvent.headers) {
      if ("originateVariables" in header) {
        for (const [name, value] of values.variables ?? []) headers.push([`variable_${name}`, value]);
      } else {
        headers.push([header.name, render(header.value)]);
      }
    }
    const event: EslEvent = templateEvent.body ? { headers, body: render(templateEvent.body) } : { headers };
    return { atUs: timeAt(templateEvent.atUs), name: templateEvent.name, event };
  });
}
