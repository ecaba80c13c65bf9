import { createHash, randomBytes } from "node:crypto";

/** The only form in which keys and tokens are stored: they are random, so a fast hash is enough. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/**
 * A new secret with a readable kind prefix: `cmk_…` for CRM API keys, `cma_…` for agent tokens,
 * `cmu_…` for user tokens.
 */
export function newSecret(prefix: "cmk" | "cma" | "cmu"): string {
  return `${prefix}_${randomBytes(24).toString("base64url")}`;
}

/** What a listing may show of a secret. */
export function secretPrefix(secret: string): string {
  return secret.slice(0, 8);
}
