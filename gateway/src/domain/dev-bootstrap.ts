import { allScopes } from "./scopes.js";
import type { TenantDirectory } from "./tenant-directory.js";

export interface DevCredentials {
  tenantId: string;
  apiKey: string;
  agentId: string;
  agentToken: string;
}

/**
 * For `npm start` and tests: makes sure the development tenant, its API key and its
 * agent's token exist, the key with every scope. (Real tenants, keys and agent enrollment come through the admin API.)
 */
export async function ensureDevTenant(directory: TenantDirectory, credentials: DevCredentials): Promise<void> {
  await directory.createTenant(credentials.tenantId, "Development tenant");
  await directory.addApiKey(credentials.tenantId, credentials.apiKey, [...allScopes]);
  // A key stored by an older version lacks the scopes added since.
  await directory.grantScopes(credentials.apiKey, allScopes);
  await directory.addAgent(credentials.tenantId, credentials.agentId, credentials.agentToken);
}
