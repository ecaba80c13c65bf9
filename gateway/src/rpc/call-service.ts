import type { CallService } from "@callmesh/gen/callmesh/crm/v1/call_service_pb.js";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { createClickToCall } from "../domain/click-to-call.js";
import { GatewayError } from "../domain/errors.js";
import type { ApiPrincipal, TenantDirectory } from "../domain/tenant-directory.js";
import { apiPrincipalKey } from "./api-key-auth.js";

/** callmesh.crm.v1.CallService: thin, the use cases live in domain/. */
export function createCallService(deps: {
  directory: TenantDirectory;
  clickToCall: ReturnType<typeof createClickToCall>;
}): Partial<ServiceImpl<typeof CallService>> {
  return {
    async clickToCall(request, context) {
      const tenantId = await deps.directory.resolveTenant(principalOf(context), request.tenantId);
      return { callId: await deps.clickToCall(tenantId, request) };
    },
  };
}

export function principalOf(context: HandlerContext): ApiPrincipal {
  const principal = context.values.get(apiPrincipalKey);
  if (!principal) throw new GatewayError("unauthenticated", "missing_api_key", "send Authorization: Bearer <api key>");
  return principal;
}
