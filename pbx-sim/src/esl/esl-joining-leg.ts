import type { EslCallAllocation, RenderedEslEvent } from "./esl-call-render.js";
import { renderEslCall } from "./esl-call-render.js";
import type { EslCaptureTemplate } from "./esl-capture-template.js";
import { type EslEvent, eventHeader } from "./esl-event.js";
import { factsOf } from "./esl-simulated-calls.js";

/** A phone's leg an originate rings into another call (`&eavesdrop(<leg>)`, `&intercept(<leg>)`). */
export interface JoiningLeg {
  readonly uuid: string;
  /** The leg rings, answers, the originate's API and BACKGROUND_JOB, and its application starts (CHANNEL_EXECUTE). */
  readonly joining: readonly RenderedEslEvent[];
  /** What the application does then, as eavesdrop did in 19s: CODEC, the target's MEDIA_BUG_START, CALL_UPDATE. */
  readonly listening: readonly RenderedEslEvent[];
  /** The leg's hangup (19s: the supervisor hung up), with the target's MEDIA_BUG_STOP. */
  readonly ending: readonly RenderedEslEvent[];
}

export interface JoiningLegRequest {
  readonly extension: string;
  readonly application: string;
  /** The last event of the leg the application joins (its channel data goes into MEDIA_BUG_*). */
  readonly target: EslEvent;
  readonly jobUuid: string;
  readonly originateArg: string;
  readonly variables: ReadonlyArray<readonly [string, string]>;
  readonly nowUs: number;
}

const MEDIA_BUG = /^MEDIA_BUG_(START|STOP)$/;

/** The recorded event's own headers (stamp, Media-Bug-*) on the target's channel data. */
function onTarget(event: RenderedEslEvent, target: EslEvent): RenderedEslEvent {
  const own = event.event.headers;
  const ownEnd = own.findIndex(([key]) => key === "Channel-State");
  const dataStart = target.headers.findIndex(([key]) => key === "Channel-State");
  const headers = [...own.slice(0, ownEnd), ...target.headers.slice(dataStart)];
  return { ...event, event: { headers } };
}

/**
 * The supervisor's leg of fs-real-19s, played for another phone joining another leg: rendered with
 * the phone as the party and the originate's `{vars}` where the recorded ones were, moved so that
 * the leg starts now, the recorded target's uuid made the real target's, and eavesdrop renamed
 * when the application is another (modeled: an intercepting leg rings and answers as 19s's did).
 */
export function renderJoiningLeg(
  template: EslCaptureTemplate,
  allocation: EslCallAllocation,
  request: JoiningLegRequest,
): JoiningLeg {
  const facts = factsOf(template, { extension: request.extension });
  const values = { facts, jobUuid: request.jobUuid, originateArg: request.originateArg, variables: request.variables };
  const channel = `sofia/internal/${request.extension}@`;
  const pick = (events: readonly RenderedEslEvent[]) => {
    const uuid = events.find((event) => eventHeader(event.event, "Channel-Name")?.startsWith(channel))?.event;
    const legUuid = uuid === undefined ? "" : (eventHeader(uuid, "Unique-ID") ?? "");
    const isJob = (event: RenderedEslEvent) =>
      (event.name === "API" || event.name === "BACKGROUND_JOB") &&
      (eventHeader(event.event, "API-Command") ?? eventHeader(event.event, "Job-Command")) === "originate";
    const from = events.findIndex((event) => eventHeader(event.event, "Unique-ID") === legUuid);
    return {
      legUuid,
      from,
      mine: events
        .slice(from)
        .filter(
          (event) => eventHeader(event.event, "Unique-ID") === legUuid || isJob(event) || MEDIA_BUG.test(event.name),
        ),
    };
  };
  // Rendered at the recorded times first, to find when the leg started.
  const recorded = pick(renderEslCall(template, values, { ...allocation, shiftUs: 0 }));
  const startUs = recorded.mine[0]?.atUs ?? 0;
  const shiftUs = Math.floor((request.nowUs - startUs) / 1_000_000) * 1_000_000;
  const { legUuid, mine } = pick(renderEslCall(template, values, { ...allocation, shiftUs }));
  const recordedTarget =
    eventHeader(mine.find((event) => MEDIA_BUG.test(event.name))?.event ?? { headers: [] }, "Media-Bug-Target") ?? "";
  const targetUuid = eventHeader(request.target, "Unique-ID") ?? "";
  const rewrite = (event: RenderedEslEvent): RenderedEslEvent => {
    const headers = event.event.headers.map(([key, value]) => {
      let next = recordedTarget === "" ? value : value.replaceAll(recordedTarget, targetUuid);
      if (next === "eavesdrop" && /^(Application|variable_current_application|Media-Bug-Function)$/.test(key)) {
        next = request.application;
      }
      return [key, next] as const;
    });
    const rewritten = { ...event, event: { ...event.event, headers } };
    return MEDIA_BUG.test(event.name) ? onTarget(rewritten, request.target) : rewritten;
  };
  const all = mine.map(rewrite);
  const executed = all.findIndex((event) => event.name === "CHANNEL_EXECUTE") + 1;
  const hangup = all.findIndex((event) => event.name === "CHANNEL_HANGUP");
  return {
    uuid: legUuid,
    joining: all.slice(0, executed),
    listening: all.slice(executed, hangup),
    ending: all.slice(hangup),
  };
}
