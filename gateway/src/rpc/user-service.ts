import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type User, UserSchema, type UserService } from "@callmesh/gen/callmesh/admin/v1/user_service_pb.js";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { GatewayError } from "../domain/errors.js";
import { requireHeld, requireScope, Scope } from "../domain/scopes.js";
import type { ApiPrincipal, TenantDirectory } from "../domain/tenant-directory.js";
import type { UserRecord, Users } from "../domain/users.js";
import { principalOf } from "./api-auth.js";

const DEFAULT_PAGE_SIZE = 100;

/** callmesh.admin.v1.UserService: the tenant's users and their tokens; every RPC needs `users:manage`. */
export function createUserService(deps: {
  directory: TenantDirectory;
  users: Users;
}): Partial<ServiceImpl<typeof UserService>> {
  async function callerFor(context: HandlerContext, requested: string): Promise<[ApiPrincipal, string]> {
    const principal = principalOf(context);
    requireScope(principal, Scope.usersManage);
    return [principal, await deps.directory.resolveTenant(principal, requested)];
  }

  return {
    async createUser({ username, displayName, extension, scopes, tenantId }, context) {
      const [caller, tenant] = await callerFor(context, tenantId);
      requireHeld(caller, scopes);
      return { user: toUser(await deps.users.create(tenant, { username, displayName, extension, scopes })) };
    },

    async listUsers({ pageSize, pageToken, tenantId }, context) {
      const [, tenant] = await callerFor(context, tenantId);
      const size = pageSize || DEFAULT_PAGE_SIZE;
      const page = await deps.users.list(tenant, size, usernameAfter(pageToken));
      const last = page.at(-1);
      const nextPageToken = page.length === size && last ? Buffer.from(last.username).toString("base64url") : "";
      return { users: page.map(toUser), nextPageToken };
    },

    async setUserScopes({ userId, scopes, tenantId }, context) {
      const [caller, tenant] = await callerFor(context, tenantId);
      const user = await deps.users.find(tenant, userId);
      requireHeld(
        caller,
        scopes.filter((scope) => !user.scopes.includes(scope)),
      );
      return { user: toUser(await deps.users.setScopes(tenant, userId, scopes)) };
    },

    async deleteUser({ userId, tenantId }, context) {
      const [, tenant] = await callerFor(context, tenantId);
      await deps.users.remove(tenant, userId);
      return {};
    },

    async createUserToken({ userId, ttlSeconds, tenantId }, context) {
      const [caller, tenant] = await callerFor(context, tenantId);
      const user = await deps.users.find(tenant, userId);
      const minted = await deps.users.mintToken(user, caller, ttlSeconds);
      return { token: minted.token, expiresAt: timestampFromDate(minted.expiresAt), scopes: minted.scopes };
    },
  };
}

function toUser(record: UserRecord): User {
  return create(UserSchema, {
    userId: record.id,
    tenantId: record.tenantId,
    username: record.username,
    displayName: record.displayName,
    extension: record.extension,
    scopes: record.scopes,
    createdAt: timestampFromDate(record.createdAt),
  });
}

/** A page token is the last user name of the page before, base64url-encoded. */
function usernameAfter(pageToken: string): string {
  if (!pageToken) return "";
  const username = Buffer.from(pageToken, "base64url").toString();
  if (!/^[a-z0-9][a-z0-9._@-]{0,63}$/.test(username)) {
    throw new GatewayError("invalid_argument", "invalid_page_token", "page_token: not a token this API gave");
  }
  return username;
}
