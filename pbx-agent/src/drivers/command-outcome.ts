import { CommandStatus } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import type { CommandOutcome } from "../ports/pbx-driver.js";
import { PbxError } from "./pbx-error.js";

/**
 * The outcome of a command that failed with `error`: no answer in time → TIMEOUT, a
 * request that cannot be written → PBX_REFUSED, a lost or absent connection →
 * PBX_UNREACHABLE; anything not a PbxError → PBX_REFUSED.
 */
export function commandOutcomeOfError(error: unknown): CommandOutcome {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof PbxError)) return { status: CommandStatus.PBX_REFUSED, message };
  switch (error.code) {
    case "deadline":
      return { status: CommandStatus.TIMEOUT, message };
    case "invalid_argument":
      return { status: CommandStatus.PBX_REFUSED, message };
    default:
      return { status: CommandStatus.PBX_UNREACHABLE, message };
  }
}
