import { AgentFleetService } from "@callmesh/gen/callmesh/admin/v1/agent_fleet_service_pb.js";
import { UserService } from "@callmesh/gen/callmesh/admin/v1/user_service_pb.js";
import { AgentService } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { CallService } from "@callmesh/gen/callmesh/crm/v1/call_service_pb.js";
import { CdrService } from "@callmesh/gen/callmesh/crm/v1/cdr_service_pb.js";
import { PresenceService } from "@callmesh/gen/callmesh/crm/v1/presence_service_pb.js";
import type { Logger } from "@callmesh/platform/logging.js";
import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";
import type { TenantDirectory } from "./domain/tenant-directory.js";
import type { Users } from "./domain/users.js";
import { createApiAuthInterceptor } from "./rpc/api-auth.js";
import { createErrorInterceptor } from "./rpc/connect-errors.js";
import { createRequestLogInterceptor } from "./rpc/request-log.js";

/** Every service the gateway serves. CRM-facing ones are logged, authenticate, then validate, then run. */
export function createRoutes(deps: {
  logger: Logger;
  directory: TenantDirectory;
  users: Users;
  agentService: Partial<ServiceImpl<typeof AgentService>>;
  callService: Partial<ServiceImpl<typeof CallService>>;
  cdrService: Partial<ServiceImpl<typeof CdrService>>;
  presenceService: Partial<ServiceImpl<typeof PresenceService>>;
  agentFleetService: Partial<ServiceImpl<typeof AgentFleetService>>;
  userService: Partial<ServiceImpl<typeof UserService>>;
}) {
  const crm = {
    interceptors: [
      createRequestLogInterceptor(deps.logger),
      createErrorInterceptor(deps.logger),
      createApiAuthInterceptor(deps),
      createValidateInterceptor(),
    ],
  };
  return (router: ConnectRouter) => {
    router.service(AgentService, deps.agentService);
    router.service(CallService, deps.callService, crm);
    router.service(CdrService, deps.cdrService, crm);
    router.service(PresenceService, deps.presenceService, crm);
    router.service(AgentFleetService, deps.agentFleetService, crm);
    router.service(UserService, deps.userService, crm);
  };
}
