import { createHash } from "node:crypto";

/** Namespace of call ids the agent derives (a fixed, random UUID). */
const CALL_ID_NAMESPACE = Buffer.from("6f1c2b9e4d7a4e0c9b3f5a8d2e1c7b40", "hex");

/**
 * The call id of a call that no click-to-call named: a UUID v5 (SHA-1, RFC 9562) of the
 * agent id and the PBX's own call id, so that replaying the same PBX traffic, or a
 * restarted agent rebuilding the same call, yields the same ids.
 */
export function deriveCallId(agentId: string, pbxCallId: string): string {
  const hash = createHash("sha1").update(CALL_ID_NAMESPACE).update(`${agentId}\n${pbxCallId}`).digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
