import { deriveCallIdIn } from "../../normalize/call-id.js";

/** Namespace of call ids the agent derives (a fixed, random UUID). */
const CALL_ID_NAMESPACE = Buffer.from("6f1c2b9e4d7a4e0c9b3f5a8d2e1c7b40", "hex");

/** The call id of a call that no click-to-call named, from the agent id and the Asterisk call (see deriveCallIdIn). */
export function deriveCallId(agentId: string, pbxCallId: string): string {
  return deriveCallIdIn(CALL_ID_NAMESPACE, agentId, pbxCallId);
}
