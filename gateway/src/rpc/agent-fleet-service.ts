import type { AgentFleetService } from "@callmesh/gen/callmesh/admin/v1/agent_fleet_service_pb.js";
import type { ServiceImpl } from "@connectrpc/connect";
import type { FleetHealth } from "../domain/fleet-health.js";
import { requireScope, Scope } from "../domain/scopes.js";
import type { TenantDirectory } from "../domain/tenant-directory.js";
import { principalOf } from "./api-auth.js";

/** callmesh.admin.v1.AgentFleetService: the tenant's agents and their health; needs `fleet:read`. */
export function createAgentFleetService(deps: {
  directory: TenantDirectory;
  fleet: FleetHealth;
}): Partial<ServiceImpl<typeof AgentFleetService>> {
  return {
    async listAgents(request, context) {
      const principal = principalOf(context);
      requireScope(principal, Scope.fleetRead);
      const tenantId = await deps.directory.resolveTenant(principal, request.tenantId);
      return { agents: await deps.fleet.listAgents(tenantId) };
    },
  };
}
