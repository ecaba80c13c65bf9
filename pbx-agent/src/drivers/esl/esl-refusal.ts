import { CommandStatus } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import type { CommandOutcome } from "../../ports/pbx-driver.js";

/**
 * FreeSWITCH 1.10's answers to the api commands call control sends (checked against v1.10.12's
 * mod_commands.c: kill_function, transfer_function, uuid_broadcast_function, uuid_hold_function,
 * uuid_send_dtmf_function, originate_function; the fs-real captures show the `+OK` forms) and
 * what a refusal means:
 * - `+OK` (uuid_kill, uuid_transfer), `+OK Success` (uuid_hold), `+OK <uuid> sent DTMF <digits>.`
 *   (uuid_send_dtmf), `+OK Message sent` (uuid_broadcast, fs-real-15o), `+OK <uuid>` (originate,
 *   fs-real-19s); uuid_hold answers `+OK Success` even for a uuid no leg has (switch_ivr_hold_uuid);
 * - the leg is gone (the call or that party ended meanwhile) → CALL_NOT_FOUND:
 *   `-ERR No such channel!` (uuid_kill, uuid_transfer, uuid_getvar, uuid_dump), `-ERR invalid
 *   uuid` (uuid_broadcast), `-ERR Cannot locate session!` (uuid_send_dtmf), `-ERR No such session`
 *   (uuid_flush_dtmf), `-ERR invalid session id [<uuid>]` (sendmsg, mod_event_socket.c);
 * - the leg is not in a state for it → WRONG_CALL_STATE: `-ERR Operation failed` (uuid_hold of
 *   a leg already held, uuid_hold off of one not held: switch_ivr_hold / switch_ivr_unhold;
 *   uuid_send_dtmf the channel refused);
 * - the phone an originate rings is unknown → EXTENSION_UNKNOWN: `-ERR SUBSCRIBER_ABSENT`
 *   (mod_dptools user_outgoing_channel: no such user), `-ERR NO_ROUTE_DESTINATION`,
 *   `-ERR UNALLOCATED_NUMBER`, `-ERR INVALID_NUMBER_FORMAT` (originate_function writes
 *   `-ERR <cause>`);
 * - the phone is there but has no registration → EXTENSION_UNAVAILABLE: `-ERR USER_NOT_REGISTERED`
 *   (mod_sofia's `error/user_not_registered` contact);
 * - anything else (`-USAGE: …`, `-ERR` alone from a failed uuid_transfer, `-ERR USER_BUSY`,
 *   `-ERR NO_ANSWER`, `-ERR <cmd> Command not found!`) → PBX_REFUSED.
 */
const LEG_GONE = [
  /^-ERR No such channel/i,
  /^-ERR no such session/i,
  /^-ERR Cannot locate session/i,
  /^-ERR invalid uuid/i,
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
