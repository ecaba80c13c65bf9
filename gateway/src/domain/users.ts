import { randomUUID } from "node:crypto";
import type { Database } from "@callmesh/platform/database.js";
import { and, asc, eq, gt, lt } from "drizzle-orm";
import { users, userTokens } from "../db/schema.js";
import { hashSecret, newSecret } from "./credentials.js";
import { GatewayError } from "./errors.js";
import type { ApiPrincipal } from "./tenant-directory.js";

export type UserRecord = typeof users.$inferSelect;

/** What a new user is. */
export interface NewUser {
  username: string;
  displayName: string;
  extension: string;
  scopes: readonly string[];
}

/** A token as minted: shown once, kept hashed. */
export interface MintedToken {
  token: string;
  expiresAt: Date;
  scopes: string[];
}

const DEFAULT_TOKEN_TTL_S = 3600;
const MIN_TOKEN_TTL_S = 60;

/**
 * The tenant's users and their bearer tokens. A token carries the scopes its minter could
 * grant; each request gets those the user still holds, so taking a scope from a user (or the
 * user away) takes it from every token at once.
 */
export function createUsers(db: Database, clock: () => Date = () => new Date()) {
  async function find(tenantId: string, userId: string): Promise<UserRecord> {
    const rows = await db
      .select()
      .from(users)
      .where(and(eq(users.tenantId, tenantId), eq(users.id, userId)));
    const user = rows[0];
    if (!user) throw userNotFound();
    return user;
  }

  return {
    find,

    async create(tenantId: string, user: NewUser): Promise<UserRecord> {
      const inserted = await db
        .insert(users)
        .values({ id: `usr_${randomUUID()}`, tenantId, ...user, scopes: [...user.scopes] })
        .onConflictDoNothing()
        .returning();
      const created = inserted[0];
      if (!created) {
        throw new GatewayError("already_exists", "username_taken", `the tenant has a user '${user.username}' already`);
      }
      return created;
    },

    /** One page by user name, after `afterUsername` when given. */
    async list(tenantId: string, pageSize: number, afterUsername = ""): Promise<UserRecord[]> {
      return db
        .select()
        .from(users)
        .where(and(eq(users.tenantId, tenantId), gt(users.username, afterUsername)))
        .orderBy(asc(users.username))
        .limit(pageSize);
    },

    async setScopes(tenantId: string, userId: string, scopes: readonly string[]): Promise<UserRecord> {
      const updated = await db
        .update(users)
        .set({ scopes: [...scopes] })
        .where(and(eq(users.tenantId, tenantId), eq(users.id, userId)))
        .returning();
      if (!updated[0]) throw userNotFound();
      return updated[0];
    },

    /** Removes the user; their tokens go with them (ON DELETE CASCADE). */
    async remove(tenantId: string, userId: string): Promise<void> {
      const deleted = await db
        .delete(users)
        .where(and(eq(users.tenantId, tenantId), eq(users.id, userId)))
        .returning({ id: users.id });
      if (deleted.length === 0) throw userNotFound();
    },

    /**
     * A token for the user, living `ttlSeconds` (0 for an hour), with the user's scopes that
     * `minter` holds too. The user's expired tokens are swept on the way.
     */
    async mintToken(user: UserRecord, minter: ApiPrincipal, ttlSeconds: number): Promise<MintedToken> {
      const ttl = ttlSeconds || DEFAULT_TOKEN_TTL_S;
      if (ttl < MIN_TOKEN_TTL_S) {
        throw new GatewayError("invalid_argument", "ttl_too_short", `ttl_seconds: at least ${MIN_TOKEN_TTL_S}, or 0`);
      }
      const now = clock();
      const token = newSecret("cmu");
      const expiresAt = new Date(now.getTime() + ttl * 1000);
      const scopes = user.scopes.filter((scope) => minter.scopes.includes(scope));
      await db.delete(userTokens).where(and(eq(userTokens.userId, user.id), lt(userTokens.expiresAt, now)));
      await db
        .insert(userTokens)
        .values({ id: randomUUID(), userId: user.id, tokenHash: hashSecret(token), scopes, expiresAt });
      return { token, expiresAt, scopes };
    },

    /** The principal of a user token; undefined when it is unknown, expired or its user is gone. */
    async authenticateToken(token: string): Promise<ApiPrincipal | undefined> {
      const rows = await db
        .select({
          userId: users.id,
          tenantId: users.tenantId,
          userScopes: users.scopes,
          tokenScopes: userTokens.scopes,
        })
        .from(userTokens)
        .innerJoin(users, eq(users.id, userTokens.userId))
        .where(and(eq(userTokens.tokenHash, hashSecret(token)), gt(userTokens.expiresAt, clock())));
      const row = rows[0];
      if (!row) return undefined;
      return {
        tenantId: row.tenantId,
        scopes: row.tokenScopes.filter((scope) => row.userScopes.includes(scope)),
        subject: `user:${row.userId}`,
      };
    },
  };
}

export type Users = ReturnType<typeof createUsers>;

function userNotFound(): GatewayError {
  return new GatewayError("not_found", "user_not_found", "the tenant has no user with this id");
}
