import { Counter, type Registry } from "@callmesh/platform/metrics.js";
import type { EslSkipReason } from "./esl-skip-reason.js";

/** Shared with the AMI driver (driver="ami"): whichever registers first owns it. */
export const INPUT_SKIPPED_METRIC = "callmesh_agent_pbx_input_skipped_total";

/** Counts skipped input as `callmesh_agent_pbx_input_skipped_total{driver="esl",reason}`; a no-op without a registry. */
export function createEslSkipCounter(registry: Registry | undefined): (reason: EslSkipReason) => void {
  if (registry === undefined) return () => undefined;
  const counter =
    (registry.getSingleMetric(INPUT_SKIPPED_METRIC) as Counter<"driver" | "reason"> | undefined) ??
    new Counter({
      name: INPUT_SKIPPED_METRIC,
      help: "PBX input the agent could not use and skipped (garbage, lying lengths, unknown events), by driver and reason",
      labelNames: ["driver", "reason"],
      registers: [registry],
    });
  return (reason) => counter.inc({ driver: "esl", reason });
}
