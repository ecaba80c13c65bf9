import type { PresenceService } from "@callmesh/gen/callmesh/crm/v1/presence_service_pb.js";
import type { ServiceImpl } from "@connectrpc/connect";
import type { PresenceUseCases } from "../domain/presence.js";
import type { TenantDirectory } from "../domain/tenant-directory.js";
import { principalOf } from "./api-auth.js";

/**
 * callmesh.crm.v1.PresenceService. WatchPresence ends cleanly when the client goes away or
 * the gateway stops (both abort `context.signal`).
 */
export function createPresenceService(deps: {
  directory: TenantDirectory;
  presence: PresenceUseCases;
}): Partial<ServiceImpl<typeof PresenceService>> {
  return {
    async listPresence(request, context) {
      const tenantId = await deps.directory.resolveTenant(principalOf(context), request.tenantId);
      const { items, unanswered } = await deps.presence.listPresence(tenantId, request.extensions);
      return { entries: items, unansweredAgents: unanswered };
    },

    async *watchPresence(request, context) {
      const tenantId = await deps.directory.resolveTenant(principalOf(context), request.tenantId);
      for await (const presence of deps.presence.watchPresence(tenantId, request.extensions, context.signal)) {
        yield { presence };
      }
    },
  };
}
