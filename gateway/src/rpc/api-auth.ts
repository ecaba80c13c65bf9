import { createContextKey, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { GatewayError } from "../domain/errors.js";
import type { ApiPrincipal, TenantDirectory } from "../domain/tenant-directory.js";
import type { Users } from "../domain/users.js";

/** The authenticated caller of a CRM API request; set by the auth interceptor. */
export const apiPrincipalKey = createContextKey<ApiPrincipal | undefined>(undefined, {
  description: "CRM API principal",
});

/** The caller of a request that passed the auth interceptor. */
export function principalOf(context: HandlerContext): ApiPrincipal {
  const principal = context.values.get(apiPrincipalKey);
  if (!principal) throw new GatewayError("unauthenticated", "missing_api_key", "send Authorization: Bearer <api key>");
  return principal;
}

/** User tokens are told from API keys by their kind prefix (domain/credentials.ts). */
const USER_TOKEN_PREFIX = "cmu_";

/**
 * Reads `Authorization: Bearer <api key | user token>` and rejects the request unless it is
 * valid; the handler finds the caller under `apiPrincipalKey`.
 */
export function createApiAuthInterceptor(deps: { directory: TenantDirectory; users: Users }): Interceptor {
  return (next) => async (req) => {
    const secret = bearerToken(req.header.get("authorization"));
    if (!secret) throw new GatewayError("unauthenticated", "missing_api_key", "send Authorization: Bearer <api key>");
    req.contextValues.set(apiPrincipalKey, await authenticate(deps, secret));
    return next(req);
  };
}

async function authenticate(deps: { directory: TenantDirectory; users: Users }, secret: string) {
  if (secret.startsWith(USER_TOKEN_PREFIX)) {
    const user = await deps.users.authenticateToken(secret);
    if (!user) {
      throw new GatewayError("unauthenticated", "invalid_user_token", "the user token is not valid, or it expired");
    }
    return user;
  }
  const key = await deps.directory.authenticateApiKey(secret);
  if (!key) throw new GatewayError("unauthenticated", "invalid_api_key", "the API key is not valid");
  return key;
}

export function bearerToken(header: string | null): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}
