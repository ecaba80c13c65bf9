import { CommandStatus } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import type { CommandOutcome } from "../../ports/pbx-driver.js";

/**
 * FreeSWITCH 1.10's answers to the api commands call control sends (mod_commands.c,
 * mod_dptools; the fs-real captures show the `+OK` forms) and what a refusal means:
 * - `+OK` (uuid_kill, uuid_transfer), `+OK Success` (uuid_hold, uuid_send_dtmf),
 *   `+OK Message sent` (uuid_broadcast, fs-real-15o), `+OK <uuid>` (originate, fs-real-19s);
 * - the leg is gone (the call or that party ended meanwhile) → CALL_NOT_FOUND:
 *   `-ERR No such channel!` (uuid_kill, uuid_transfer), `-ERR no such session`
 *   (uuid_send_dtmf), `-ERR Cannot locate session!`, `-ERR invalid session id`;
 * - the leg is not in a state for it → WRONG_CALL_STATE: `-ERR Operation failed`
 *   (uuid_hold off of a leg not held, uuid_hold of one with no media);
 * - the phone an originate rings is unknown → EXTENSION_UNKNOWN: `-ERR SUBSCRIBER_ABSENT`,
 *   `-ERR NO_ROUTE_DESTINATION`, `-ERR UNALLOCATED_NUMBER`, `-ERR INVALID_NUMBER_FORMAT`;
 * - the phone is there but has no registration → EXTENSION_UNAVAILABLE: `-ERR USER_NOT_REGISTERED`;
 * - anything else (`-USAGE: …`, `-ERR USER_BUSY`,
 *   `-ERR NO_ANSWER`, `-ERR <cmd> Command not found!`) → PBX_REFUSED.
 */
const LEG_GONE = [
  /^-ERR No such channel/i,
  /^-ERR no such session/i,
  /^-ERR Cannot locate session/i,
  /invalid session id/i,
];
const WRONG_STATE = [/^-ERR Operation failed/i];
const UNKNOWN_EXTENSION = [
  /^-ERR SUBSCRIBER_ABSENT/,
  /^-ERR NO_ROUTE_DESTINATION/,
  /^-ERR UNALLOCATED_NUMBER/,
  /^-ERR INVALID_NUMBER_FORMAT/,
];

/** The outcome of an api command's text: OK on `+OK…`, else the refusal it means. */
export function outcomeOfApiReply(command: string, text: string): CommandOutcome {
  const reply = text.trim();
  if (reply.startsWith("+OK")) return { status: CommandStatus.OK, message: `${command}: ${reply}` };
  return { status: statusOfEslRefusal(reply), message: `${command} refused: ${reply || "(no reply)"}` };
}

export function statusOfEslRefusal(reply: string): CommandStatus {
  if (LEG_GONE.some((pattern) => pattern.test(reply))) return CommandStatus.CALL_NOT_FOUND;
  if (WRONG_STATE.some((pattern) => pattern.test(reply))) return CommandStatus.WRONG_CALL_STATE;
  if (UNKNOWN_EXTENSION.some((pattern) => pattern.test(reply))) return CommandStatus.EXTENSION_UNKNOWN;
  if (/^-ERR USER_NOT_REGISTERED/.test(reply)) return CommandStatus.EXTENSION_UNAVAILABLE;
  return CommandStatus.PBX_REFUSED;
}
