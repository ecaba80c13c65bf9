import type { Logger } from "@callmesh/platform/logging.js";
import { Counter, type Registry } from "@callmesh/platform/metrics.js";

/** The counter both drivers share; `driver` is "ami" or "esl", `reason` says what was wrong. */
export const INPUT_SKIPPED_METRIC = "callmesh_agent_pbx_input_skipped_total";

/**
 * Where a driver reports PBX input it skipped (garbage, a truncated stream, events it
 * cannot place): every skip is counted in the metric, and logged at warn at most once
 * per reason per interval, with how many were skipped since the last line, so a PBX
 * flooding garbage cannot flood the log.
 */
export interface InputSkips {
  skipped(reason: string, count?: number): void;
}

export interface InputSkipsOptions {
  driver: string;
  logger?: Logger;
  metrics?: Registry;
  /** Least time between two warn lines of one reason; default 60 s. */
  warnIntervalMs?: number;
  /** Wall clock for the rate limit; injectable for tests. */
  now?: () => number;
}

export function createInputSkips(options: InputSkipsOptions): InputSkips {
  const counter = options.metrics === undefined ? undefined : skippedCounter(options.metrics);
  const driver = options.driver;
  const interval = options.warnIntervalMs ?? 60_000;
  const now = options.now ?? Date.now;
  /** Per reason: when it was last logged, and how many went unlogged since. */
  const pending = new Map<string, { loggedAt: number; unlogged: number }>();
  return {
    skipped(reason, count = 1) {
      if (count <= 0) return;
      counter?.inc({ driver, reason }, count);
      const logger = options.logger;
      if (logger === undefined) return;
      const at = now();
      const state = pending.get(reason);
      if (state !== undefined && at - state.loggedAt < interval) {
        state.unlogged += count;
        return;
      }
      const skipped = count + (state?.unlogged ?? 0);
      pending.set(reason, { loggedAt: at, unlogged: 0 });
      logger.warn({ driver, reason, skipped }, "skipped PBX input");
    },
  };
}

/** The shared counter, registered on `registry` once whichever driver comes first. */
function skippedCounter(registry: Registry): Counter<"driver" | "reason"> {
  const existing = registry.getSingleMetric(INPUT_SKIPPED_METRIC);
  if (existing !== undefined) return existing as Counter<"driver" | "reason">;
  return new Counter({
    name: INPUT_SKIPPED_METRIC,
    help: "PBX input the agent skipped (garbage, truncated streams, events of unknown calls), by driver and reason.",
    labelNames: ["driver", "reason"],
    registers: [registry],
  });
}
