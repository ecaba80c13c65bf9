import { CommandStatus } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import type { CommandOutcome } from "../../ports/pbx-driver.js";
import type { AmiMessage } from "./ami-message.js";

/**
 * Asterisk's `Response: Error` texts and what they mean for the command, as Asterisk 20 answers
 * them (checked against main/manager.c action_hangup/ast_manager_hangup_helper, action_redirect,
 * action_blind_transfer, action_atxfer; apps/app_senddtmf.c manager_play_dtmf; main/features.c
 * action_bridge; res/parking/parking_manager.c manager_park):
 * - the channel is gone (the call or that party ended meanwhile) → CALL_NOT_FOUND:
 *   "No such channel" (Hangup), "Channel does not exist: <name>" (Redirect, Park),
 *   "Channel not found" (PlayDTMF), "Channel specified does not exist" (BlindTransfer,
 *   Atxfer), "Channel1 does not exist: <name>", "Channel2 does not exist: <name>" (Bridge);
 * - the call is not in a state for it → WRONG_CALL_STATE: "Transfer not permitted",
 *   "Transfer invalid" (BlindTransfer: no bridge, or alone in it), "Redirect failed, channel
 *   not up." and "Redirect failed, extra channel not up." (Redirect of a channel being hung
 *   up), "Channel is not in a bridge" (manager_bridges.c BridgeKick);
 * - the destination is unknown → EXTENSION_UNKNOWN: "Extension does not exist." (Originate);
 * - anything else → PBX_REFUSED: "Transfer failed", "Park action failed" (its text ends in a
 *   newline), "Redirect failed", "Secondary redirect failed", "ExtraChannel does not exist:
 *   <name>", "Missing channel parameter in request" (Bridge), "No attended transfer feature
 *   code found" (Atxfer), "Originate failed", "Permission denied".
 */
const CHANNEL_GONE = [
  /^No such channel/i,
  /^Channel does not exist/i,
  /^Channel\d does not exist/i,
  /^Channel not found/i,
  /^Channel specified does not exist/i,
];
const WRONG_STATE = [/^Transfer not permitted/i, /^Transfer invalid/i, /channel not up/i, /not in a bridge/i];
const UNKNOWN_EXTENSION = [/^Extension does not exist/i];

/** The outcome of an action's response: OK on Success, else the refusal its message means. */
export function outcomeOfResponse(action: string, response: AmiMessage): CommandOutcome {
  const message = response.get("Message") ?? "";
  if (response.response === "Success") return { status: CommandStatus.OK, message: message || `${action} accepted` };
  return { status: statusOfRefusal(message), message: `${action} refused: ${message || response.response || ""}` };
}

export function statusOfRefusal(message: string): CommandStatus {
  if (CHANNEL_GONE.some((pattern) => pattern.test(message))) return CommandStatus.CALL_NOT_FOUND;
  if (WRONG_STATE.some((pattern) => pattern.test(message))) return CommandStatus.WRONG_CALL_STATE;
  if (UNKNOWN_EXTENSION.some((pattern) => pattern.test(message))) return CommandStatus.EXTENSION_UNKNOWN;
  return CommandStatus.PBX_REFUSED;
}
