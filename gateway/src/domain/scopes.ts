import { GatewayError } from "./errors.js";
import type { ApiPrincipal } from "./tenant-directory.js";

/** What an API key may do beyond the tenant's calls, CDRs and presence, which any valid key reads. */
export const Scope = {
  /** Hang up, transfer, hold, resume, park, DTMF, conference. */
  callsControl: "calls:control",
  /** Spy (listen, whisper, barge) and intercept. */
  callsSupervise: "calls:supervise",
  /** The tenant's PBX agents and their health. */
  fleetRead: "fleet:read",
} as const;
export type Scope = (typeof Scope)[keyof typeof Scope];

/** Every scope there is; the development key gets them all. */
export const allScopes: readonly string[] = ["calls:write", "cdrs:read", ...Object.values(Scope)];

export function requireScope(principal: ApiPrincipal, scope: Scope): void {
  if (principal.scopes.includes(scope)) return;
  throw new GatewayError("permission_denied", "scope_missing", `this API key lacks the scope '${scope}'`);
}
