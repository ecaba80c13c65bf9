import { CdrService } from "@callmesh/gen/callmesh/crm/v1/cdr_service_pb.js";
import { tenantIdHeader as tenantHeader } from "@callmesh/platform/internal-headers.js";
import { type Client, createClient, type ServiceImpl, type Transport } from "@connectrpc/connect";
import type { TenantDirectory } from "../domain/tenant-directory.js";
import { principalOf } from "./api-auth.js";

/**
 * callmesh.crm.v1.CdrService at the edge: authorizes, then forwards to cdr-service over
 * gRPC with the tenant in a header; cdr-service checks it again and answers.
 */
export function createCdrServiceProxy(deps: {
  directory: TenantDirectory;
  transport: Transport;
}): Partial<ServiceImpl<typeof CdrService>> {
  const cdrs: Client<typeof CdrService> = createClient(CdrService, deps.transport);
  return {
    async listCdrs(request, context) {
      const tenantId = await deps.directory.resolveTenant(principalOf(context), request.tenantId);
      return cdrs.listCdrs(request, { headers: { [tenantHeader]: tenantId }, signal: context.signal });
    },
    async getCdr(request, context) {
      const tenantId = await deps.directory.resolveTenant(principalOf(context), request.tenantId);
      return cdrs.getCdr(request, { headers: { [tenantHeader]: tenantId }, signal: context.signal });
    },
  };
}
