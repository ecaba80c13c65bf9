import type { Logger } from "@callmesh/platform/logging.js";
import type { Registry } from "@callmesh/platform/metrics.js";
import { createInputSkips, type InputSkips } from "../../normalize/input-skips.js";
import type { CallOutput } from "../../ports/pbx-driver.js";
import type { PbxNormalizer } from "../../ports/pbx-normalizer.js";
import { type AmiCallTracker, createAmiCallTracker } from "./ami-call-tracker.js";
import type { AmiMessage } from "./ami-message.js";
import type { NumberPlanOptions } from "./ami-number-plan.js";
import { type AmiParser, createAmiParser } from "./ami-parser.js";
import { type AmiSkipReport, createAmiSkipReport } from "./ami-skip-report.js";

export type { PbxNormalizer } from "../../ports/pbx-normalizer.js";

export interface AmiNormalizerOptions extends NumberPlanOptions {
  agentId: string;
  onOutput(output: CallOutput): void;
  logger?: Logger;
  metrics?: Registry;
}

/**
 * A recorded AMI session (or any byte stream of one) to CallEvents and Cdrs: parser →
 * call tracker, on PBX time only, so the same bytes always give the same output whatever
 * their chunking and however fast they are read. What a client sent is skipped (captures
 * interleave the recorder's `Action:` blocks); events without `Timestamp` take the last
 * one seen. Garbage is skipped, counted in `callmesh_agent_pbx_input_skipped_total`
 * {driver="ami"} by reason, and logged at warn, rate-limited.
 */
export function createAmiNormalizer(options: AmiNormalizerOptions): PbxNormalizer {
  return new AmiNormalizer(options);
}

class AmiNormalizer implements PbxNormalizer {
  readonly #parser: AmiParser;
  readonly #tracker: AmiCallTracker;
  readonly #skips: InputSkips;
  readonly #logger: Logger | undefined;
  readonly #skipReport: AmiSkipReport;

  constructor(options: AmiNormalizerOptions) {
    this.#logger = options.logger;
    this.#skips = createInputSkips({ driver: "ami", logger: options.logger, metrics: options.metrics });
    this.#skipReport = createAmiSkipReport(this.#skips);
    this.#tracker = createAmiCallTracker({
      agentId: options.agentId,
      trunkContexts: options.trunkContexts,
      extensionPattern: options.extensionPattern,
      onOutput: options.onOutput,
      logger: options.logger,
      // No wall clock: a Cdr waits for a later event or for end(), never for real time.
      now: () => 0,
      untimedEvents: "last-event",
    });
    this.#parser = createAmiParser({
      onMessage: (message) => this.#handle(message),
      onListenerError: (error) => this.#listenerFailed(error),
    });
  }

  push(chunk: Uint8Array): void {
    this.#parser.push(chunk);
    this.#reportSkips();
  }

  end(): void {
    this.#parser.end();
    this.#tracker.flush();
    this.#reportSkips();
    const unfinished = this.#tracker.activeCalls;
    if (unfinished > 0) {
      // The stream stopped mid-call: no HANGUP is invented; the PBX never said the call ended.
      this.#skips.skipped("call_unfinished", unfinished);
    }
  }

  #handle(message: AmiMessage): void {
    if (message.event === undefined) return;
    this.#tracker.handle(message);
  }

  #listenerFailed(error: unknown): void {
    this.#logger?.error({ err: error }, "AMI event could not be normalized; skipped");
    this.#skips.skipped("handler_error");
  }

  #reportSkips(): void {
    this.#skipReport.report(this.#parser.stats, this.#tracker.stats);
  }
}
