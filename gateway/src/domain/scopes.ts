import { GatewayError } from "./errors.js";
import type { ApiPrincipal } from "./tenant-directory.js";

/**
 * What an API key or a user may do beyond click-to-call and reading the tenant's calls, CDRs
 * and presence, which any valid key or user token may.
 */
export const Scope = {
  /** Hang up, transfer, hold, resume, park, DTMF, conference. */
  callsControl: "calls:control",
  /** Spy (listen, whisper, barge) and intercept. */
  callsSupervise: "calls:supervise",
  /** The tenant's PBX agents and their health. */
  fleetRead: "fleet:read",
  /** The tenant's users and their tokens. */
  usersManage: "users:manage",
} as const;
export type Scope = (typeof Scope)[keyof typeof Scope];

/** Every scope there is; the development key gets them all. */
export const allScopes: readonly string[] = ["calls:write", "cdrs:read", ...Object.values(Scope)];

export function requireScope(principal: ApiPrincipal, scope: Scope): void {
  if (principal.scopes.includes(scope)) return;
  throw new GatewayError("permission_denied", "scope_missing", `this caller lacks the scope '${scope}'`);
}

/** Nobody grants what they do not hold: a key or user may give only scopes of its own. */
export function requireHeld(principal: ApiPrincipal, granted: readonly string[]): void {
  const lacking = granted.find((scope) => !principal.scopes.includes(scope));
  if (lacking === undefined) return;
  throw new GatewayError(
    "permission_denied",
    "scope_not_held",
    `this caller may not grant '${lacking}', which it lacks`,
  );
}
