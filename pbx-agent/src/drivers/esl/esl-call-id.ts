import { deriveCallIdIn } from "../../normalize/call-id.js";

/** Namespace of the call ids the ESL driver derives (a fixed, random UUID). */
const CALL_ID_NAMESPACE = Buffer.from("3b0e8f5c1a9d4c27b6e2d41f7a0c9e58", "hex");

/**
 * The call id of a call no click-to-call named, from the agent id and the call's first
 * FreeSWITCH Unique-ID (see deriveCallIdIn).
 */
export function deriveEslCallId(agentId: string, pbxCallId: string): string {
  return deriveCallIdIn(CALL_ID_NAMESPACE, agentId, pbxCallId);
}
