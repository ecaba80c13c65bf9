import { type CommandResult, CommandStatus } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { GatewayError } from "./errors.js";

/** Why an agent's refusal becomes which error for the CRM (docs/ARCHITECTURE.md, Errors). */
const refusals: Partial<Record<CommandStatus, () => GatewayError>> = {
  [CommandStatus.EXTENSION_UNKNOWN]: () =>
    new GatewayError("not_found", "extension_unknown", "the PBX has no such extension"),
  [CommandStatus.EXTENSION_UNAVAILABLE]: () =>
    new GatewayError("failed_precondition", "extension_unavailable", "the extension has no registered phone"),
  [CommandStatus.PBX_REFUSED]: () =>
    new GatewayError("failed_precondition", "pbx_refused", "the PBX refused the command"),
  [CommandStatus.PBX_UNREACHABLE]: () =>
    new GatewayError("unavailable", "pbx_unreachable", "the PBX agent is online but not connected to its PBX"),
  [CommandStatus.TIMEOUT]: () => new GatewayError("deadline_exceeded", "pbx_timeout", "the PBX did not answer in time"),
  [CommandStatus.CALL_NOT_FOUND]: () => callNotFound(),
  [CommandStatus.WRONG_CALL_STATE]: () =>
    new GatewayError(
      "failed_precondition",
      "wrong_call_state",
      "the call has no such party, or is not in the state this action needs",
    ),
  [CommandStatus.UNSUPPORTED]: () =>
    new GatewayError(
      "failed_precondition",
      "command_unsupported",
      "the PBX's agent does not support this action; upgrade the agent",
    ),
};

/** Throws the CRM-facing error for a result that is not OK; returns the result otherwise. */
export function acceptedOrThrow(result: CommandResult): CommandResult {
  if (result.status === CommandStatus.OK) return result;
  throw (
    refusals[result.status]?.() ??
    new GatewayError("unavailable", "agent_error", `the agent could not run the command: ${result.message}`)
  );
}

/** No call of the tenant with this id: ended, unknown, or another tenant's (never told apart). */
export function callNotFound(): GatewayError {
  return new GatewayError("not_found", "call_not_found", "no call in progress with this id");
}

export function agentOffline(): GatewayError {
  return new GatewayError("unavailable", "agent_offline", "no PBX agent of this tenant is online");
}
