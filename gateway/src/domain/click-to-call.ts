import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { CommandStatus, OriginateSchema } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import type { ClickToCallRequest } from "@callmesh/gen/callmesh/crm/v1/call_service_pb.js";
import type { AgentHub } from "./agent-hub.js";
import { GatewayError } from "./errors.js";
import type { TenantDirectory } from "./tenant-directory.js";

const defaultRingSeconds = 30;

/** Why an agent's refusal becomes which error for the CRM. */
const refusals: Partial<Record<CommandStatus, GatewayError>> = {
  [CommandStatus.EXTENSION_UNKNOWN]: new GatewayError(
    "not_found",
    "extension_unknown",
    "the PBX has no such extension",
  ),
  [CommandStatus.EXTENSION_UNAVAILABLE]: new GatewayError(
    "failed_precondition",
    "extension_unavailable",
    "the extension has no registered phone",
  ),
  [CommandStatus.PBX_REFUSED]: new GatewayError("failed_precondition", "pbx_refused", "the PBX refused the call"),
  [CommandStatus.PBX_UNREACHABLE]: new GatewayError(
    "unavailable",
    "pbx_unreachable",
    "the PBX agent is online but not connected to its PBX",
  ),
  [CommandStatus.TIMEOUT]: new GatewayError("deadline_exceeded", "pbx_timeout", "the PBX did not answer in time"),
};

/**
 * Click-to-call (REQUIREMENTS C1–C4): picks the tenant's online agent, has it ring the
 * extension and then dial the destination, and answers with the call id that all the
 * call's events and its CDR carry. A retried click with the same idempotency key returns
 * the first call id without ringing again.
 */
export function createClickToCall(deps: { hub: AgentHub; directory: TenantDirectory }) {
  return async function clickToCall(tenantId: string, request: ClickToCallRequest): Promise<string> {
    const callId = randomUUID();
    const key = request.idempotencyKey;
    if (key) {
      const earlier = await deps.directory.claimClick(tenantId, key, callId);
      if (earlier) return earlier;
    }
    try {
      const agent = deps.hub.agentFor(tenantId);
      if (!agent) throw new GatewayError("unavailable", "agent_offline", "no PBX agent of this tenant is online");
      const result = await deps.hub.run(agent, {
        case: "originate",
        value: create(OriginateSchema, {
          callId,
          extension: request.extension,
          destination: request.destination,
          callerId: request.callerId,
          variables: request.variables,
          timeoutSeconds: request.timeoutSeconds || defaultRingSeconds,
        }),
      });
      if (result.status !== CommandStatus.OK) {
        throw (
          refusals[result.status] ??
          new GatewayError("unavailable", "agent_error", `the agent could not run the command: ${result.message}`)
        );
      }
      return callId;
    } catch (error) {
      if (key) await deps.directory.releaseClick(tenantId, key);
      throw error;
    }
  };
}
