import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { OriginateSchema } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import type { ClickToCallRequest } from "@callmesh/gen/callmesh/crm/v1/call_service_pb.js";
import type { AgentHub } from "./agent-hub.js";
import { acceptedOrThrow, agentOffline } from "./command-refusals.js";
import type { TenantDirectory } from "./tenant-directory.js";

const defaultRingSeconds = 30;

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
      if (!agent) throw agentOffline();
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
      acceptedOrThrow(result);
      return callId;
    } catch (error) {
      if (key) await deps.directory.releaseClick(tenantId, key);
      throw error;
    }
  };
}
