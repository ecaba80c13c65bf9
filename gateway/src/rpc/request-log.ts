import type { Logger } from "@callmesh/platform/logging.js";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { apiPrincipalKey } from "./api-auth.js";

/**
 * One log line per CRM or admin request: which RPC, who (`key:…` or `user:…`), for which tenant
 * and call, how it ended and how long it took — the audit trail of who hung up whose call.
 * Outermost, so it sees the code the client gets; a stream is logged when it opens.
 */
export function createRequestLogInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const line = () => {
      const principal = req.contextValues.get(apiPrincipalKey);
      const callId = req.stream ? undefined : (req.message as { callId?: unknown }).callId;
      return {
        rpc: `${req.service.typeName}/${req.method.name}`,
        subject: principal?.subject,
        tenantId: principal?.tenantId,
        callId: typeof callId === "string" && callId ? callId : undefined,
        ms: Math.round(performance.now() - started),
      };
    };
    try {
      const res = await next(req);
      logger.info({ ...line(), code: "ok" }, res.stream ? "stream opened" : "request");
      return res;
    } catch (error) {
      const code = error instanceof ConnectError ? error.code : Code.Internal;
      logger.info({ ...line(), code: Code[code] }, "request failed");
      throw error;
    }
  };
}
