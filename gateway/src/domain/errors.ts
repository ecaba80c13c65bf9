/**
 * What can go wrong in the gateway's use cases, as typed errors with a stable reason.
 * The rpc edge (rpc/connect-errors.ts) maps each kind to one Connect code.
 */
export type GatewayErrorKind =
  | "unauthenticated"
  | "permission_denied"
  | "not_found"
  | "already_exists"
  | "invalid_argument"
  | "failed_precondition"
  | "resource_exhausted"
  | "unavailable"
  | "deadline_exceeded";

export class GatewayError extends Error {
  override readonly name = "GatewayError";
  constructor(
    readonly kind: GatewayErrorKind,
    /** Stable snake_case reason a CRM can branch on, e.g. "agent_offline". */
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}
