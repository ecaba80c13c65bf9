import { createHash } from "node:crypto";

/** Namespace of the call ids the ESL driver derives (a fixed, random UUID). */
const CALL_ID_NAMESPACE = Buffer.from("3b0e8f5c1a9d4c27b6e2d41f7a0c9e58", "hex");

/**
 * The call id of a call no click-to-call named: a UUID v5 (RFC 9562) of the agent id and
 * the call's first FreeSWITCH Unique-ID, so a replay or a restarted agent gives the same id.
 */
export function deriveEslCallId(agentId: string, pbxCallId: string): string {
  const hash = createHash("sha1").update(CALL_ID_NAMESPACE).update(`${agentId}\n${pbxCallId}`).digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
