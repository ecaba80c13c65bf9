import type { Logger } from "@callmesh/platform/logging.js";
import type { Registry } from "@callmesh/platform/metrics.js";
import type { CallOutput } from "../../ports/pbx-driver.js";
import type { PbxNormalizer } from "../../ports/pbx-normalizer.js";
import { createEslCallTracker, type EslCallTracker } from "./esl-call-tracker.js";
import { FREESWITCH_EVENT_NAMES } from "./esl-event-names.js";
import { createEslFrameParser, type EslFrameParser } from "./esl-frame-parser.js";
import { createLineEndingNormalizer } from "./esl-line-endings.js";
import { decodeEslFrame, type EslMessage } from "./esl-message.js";
import type { EslNumberPlanOptions } from "./esl-number-plan.js";
import { createEslSkipCounter } from "./esl-skip-counter.js";
import type { EslSkipReason } from "./esl-skip-reason.js";

export interface EslNormalizerOptions extends EslNumberPlanOptions {
  agentId: string;
  onOutput(output: CallOutput): void;
  logger?: Logger;
  metrics?: Registry;
}

/** What the driver adds to the replay path: the tracker (to expect originates) and the non-event messages. */
export interface EslSessionNormalizer extends PbxNormalizer {
  readonly tracker: EslCallTracker;
  readonly parser: EslFrameParser;
}

export interface EslSessionOptions extends EslNormalizerOptions {
  /** Every message that is not an event (replies, auth request, disconnect notice), and every event, in order. */
  onMessage?(message: EslMessage): void;
  /** Events of these names reach `onMessage` even when the tracker does not handle them. */
  alsoWants?: ReadonlySet<string>;
  /** Reuse a tracker across sessions (the driver reconnecting); default a new one. */
  tracker?: EslCallTracker;
}

/**
 * Raw ESL bytes as FreeSWITCH sent them → CallEvents and Cdrs. The one path used by the
 * driver, the replay CLI and the bench. What a client sent, interleaved in a capture
 * (`auth ClueCon`, `event plain ALL`…), is skipped; garbage is logged, counted and
 * skipped, and parsing resumes at the next frame.
 */
export function createEslNormalizer(options: EslNormalizerOptions): PbxNormalizer {
  return createEslSessionNormalizer(options);
}

export function createEslSessionNormalizer(options: EslSessionOptions): EslSessionNormalizer {
  const log = options.logger;
  const count = createEslSkipCounter(options.metrics);
  const tracker = options.tracker ?? createEslCallTracker(options);
  const skip = (reason: EslSkipReason, detail: string) => {
    count(reason);
    log?.warn({ reason, detail }, "ESL input skipped");
  };
  const wants = (name: string): boolean => {
    if (tracker.handles(name) || options.alsoWants?.has(name)) return true;
    if (!FREESWITCH_EVENT_NAMES.has(name)) skip("unknown_event", `event ${name.slice(0, 60)}`);
    return false;
  };
  const parser = createEslFrameParser({
    onSkip: skip,
    onFrame: (frame) => {
      const result = decodeEslFrame(frame, wants);
      if (result === undefined) return;
      if ("skip" in result) {
        skip(result.skip, result.detail);
        return;
      }
      const message = result.message;
      if (message.type === "event") {
        const event = message.event;
        if (event.name.startsWith("CHANNEL_") && !event.get("Unique-ID")) {
          skip("no_unique_id", `${event.name} without Unique-ID`);
          return;
        }
        try {
          tracker.handle(event);
        } catch (error) {
          // A bug in one handler must not stop the stream: the event is lost, loudly.
          log?.error({ err: error, event: event.name }, "ESL event handler failed");
        }
      }
      options.onMessage?.(message);
    },
  });
  const lineEndings = createLineEndingNormalizer();
  return {
    tracker,
    parser,
    push: (chunk) => parser.push(lineEndings(chunk)),
    end: () => {
      parser.end();
      tracker.flush();
    },
  };
}
