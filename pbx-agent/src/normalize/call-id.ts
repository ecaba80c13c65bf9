import { createHash } from "node:crypto";

/**
 * A call id derived from the agent id and the PBX's own call id: a UUID v5 (SHA-1,
 * RFC 9562) in `namespace` (16 bytes), so that replaying the same PBX traffic, or a
 * restarted agent rebuilding the same call, yields the same id. Each driver keeps its
 * own namespace, so that the ids it already gave out never change.
 */
export function deriveCallIdIn(namespace: Uint8Array, agentId: string, pbxCallId: string): string {
  const hash = createHash("sha1").update(namespace).update(`${agentId}\n${pbxCallId}`).digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
