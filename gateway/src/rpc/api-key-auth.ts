import { createContextKey, type Interceptor } from "@connectrpc/connect";
import { GatewayError } from "../domain/errors.js";
import type { ApiPrincipal, TenantDirectory } from "../domain/tenant-directory.js";

/** The authenticated caller of a CRM API request; set by the auth interceptor. */
export const apiPrincipalKey = createContextKey<ApiPrincipal | undefined>(undefined, {
  description: "CRM API principal",
});

/** Reads `Authorization: Bearer <api key>` and rejects the request unless the key is valid. */
export function createApiKeyAuthInterceptor(directory: TenantDirectory): Interceptor {
  return (next) => async (req) => {
    const key = bearerToken(req.header.get("authorization"));
    if (!key) throw new GatewayError("unauthenticated", "missing_api_key", "send Authorization: Bearer <api key>");
    const principal = await directory.authenticateApiKey(key);
    if (!principal) throw new GatewayError("unauthenticated", "invalid_api_key", "the API key is not valid");
    req.contextValues.set(apiPrincipalKey, principal);
    return next(req);
  };
}

export function bearerToken(header: string | null): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}
