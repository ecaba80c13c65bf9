import { randomUUID } from "node:crypto";
import type { Database } from "@callmesh/platform/database.js";
import { and, asc, eq, isNull } from "drizzle-orm";
import { agents, apiKeys, clickToCalls, tenants } from "../db/schema.js";
import { hashSecret, secretPrefix } from "./credentials.js";
import { GatewayError } from "./errors.js";

/** Who is calling the CRM API: an API key, or a user through one of their tokens. */
export interface ApiPrincipal {
  tenantId: string;
  /** What it may do beyond what any caller may (domain/scopes.ts). */
  scopes: readonly string[];
  /** Who, for logs: `key:<id>` or `user:<id>`. */
  subject: string;
}

/** Which agent is on the stream. */
export interface AgentPrincipal {
  agentId: string;
  tenantId: string;
}

/** Tenants, their API keys and agent tokens, and click-to-call idempotency records. */
export function createTenantDirectory(db: Database) {
  return {
    async authenticateApiKey(key: string): Promise<ApiPrincipal | undefined> {
      const rows = await db
        .select({ keyId: apiKeys.id, tenantId: apiKeys.tenantId, scopes: apiKeys.scopes })
        .from(apiKeys)
        .where(and(eq(apiKeys.keyHash, hashSecret(key)), isNull(apiKeys.revokedAt)));
      const row = rows[0];
      return row && { tenantId: row.tenantId, scopes: row.scopes, subject: `key:${row.keyId}` };
    },

    async authenticateAgent(token: string): Promise<AgentPrincipal | undefined> {
      const rows = await db
        .select({ agentId: agents.id, tenantId: agents.tenantId })
        .from(agents)
        .where(eq(agents.tokenHash, hashSecret(token)));
      return rows[0];
    },

    /**
     * The tenant a request acts for: the key's own, or the one the request names, which must
     * exist (NotFound otherwise) and be the key's (PermissionDenied otherwise).
     */
    async resolveTenant(principal: ApiPrincipal, requested: string): Promise<string> {
      if (!requested || requested === principal.tenantId) return principal.tenantId;
      const rows = await db.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, requested));
      if (rows.length === 0)
        throw new GatewayError("not_found", "tenant_not_found", `tenant '${requested}' does not exist`);
      throw new GatewayError(
        "permission_denied",
        "tenant_not_permitted",
        `this caller may not act for tenant '${requested}'`,
      );
    },

    async createTenant(id: string, name: string): Promise<void> {
      await db.insert(tenants).values({ id, name }).onConflictDoNothing();
    },

    /** Stores an API key (given in full, kept hashed); a key already stored is left as it is. */
    async addApiKey(tenantId: string, key: string, scopes: string[]): Promise<void> {
      await db
        .insert(apiKeys)
        .values({ id: randomUUID(), tenantId, keyHash: hashSecret(key), prefix: secretPrefix(key), scopes })
        .onConflictDoNothing();
    },

    /** Stores an agent's token (kept hashed) for tenant; the agent id is its own. */
    async addAgent(tenantId: string, agentId: string, token: string): Promise<void> {
      await db
        .insert(agents)
        .values({ id: agentId, tenantId, tokenHash: hashSecret(token) })
        .onConflictDoUpdate({ target: agents.id, set: { tenantId, tokenHash: hashSecret(token) } });
    },

    /** Adds scopes to a stored API key, keeping those it has (the development key after an upgrade). */
    async grantScopes(key: string, scopes: readonly string[]): Promise<void> {
      const keyHash = hashSecret(key);
      const rows = await db.select({ scopes: apiKeys.scopes }).from(apiKeys).where(eq(apiKeys.keyHash, keyHash));
      const held = rows[0]?.scopes;
      if (!held || scopes.every((scope) => held.includes(scope))) return;
      await db
        .update(apiKeys)
        .set({ scopes: [...new Set([...held, ...scopes])] })
        .where(eq(apiKeys.keyHash, keyHash));
    },

    /** The tenant's agents, by id, with when each was last heard from (as last written). */
    async listAgents(tenantId: string): Promise<{ agentId: string; lastSeenAt: Date | null }[]> {
      return db
        .select({ agentId: agents.id, lastSeenAt: agents.lastSeenAt })
        .from(agents)
        .where(eq(agents.tenantId, tenantId))
        .orderBy(asc(agents.id));
    },

    async touchAgent(agentId: string, at: Date): Promise<void> {
      await db.update(agents).set({ lastSeenAt: at }).where(eq(agents.id, agentId));
    },

    /** Records a click's idempotency key; returns the call id of an earlier click with the same key, if any. */
    async claimClick(tenantId: string, idempotencyKey: string, callId: string): Promise<string | undefined> {
      const inserted = await db
        .insert(clickToCalls)
        .values({ tenantId, idempotencyKey, callId })
        .onConflictDoNothing()
        .returning({ callId: clickToCalls.callId });
      if (inserted.length > 0) return undefined;
      const rows = await db
        .select({ callId: clickToCalls.callId })
        .from(clickToCalls)
        .where(and(eq(clickToCalls.tenantId, tenantId), eq(clickToCalls.idempotencyKey, idempotencyKey)));
      return rows[0]?.callId;
    },

    /** Forgets a click that never reached the PBX, so that a retry with its key may try again. */
    async releaseClick(tenantId: string, idempotencyKey: string): Promise<void> {
      await db
        .delete(clickToCalls)
        .where(and(eq(clickToCalls.tenantId, tenantId), eq(clickToCalls.idempotencyKey, idempotencyKey)));
    },
  };
}

export type TenantDirectory = ReturnType<typeof createTenantDirectory>;
