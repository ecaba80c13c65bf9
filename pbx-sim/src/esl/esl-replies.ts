/** The frames mod_event_socket writes itself (not events), byte for byte. */

export const AUTH_REQUEST = "Content-Type: auth/request\n\n";

/** `Content-Type: command/reply` with `Reply-Text` (what parse_command's reply becomes). */
export const commandReply = (text: string) => `Content-Type: command/reply\nReply-Text: ${text}\n\n`;

/** bgapi's reply: the Job-UUID twice, as in the fs-real captures. */
export const jobReply = (jobUuid: string) =>
  `Content-Type: command/reply\nReply-Text: +OK Job-UUID: ${jobUuid}\nJob-UUID: ${jobUuid}\n\n`;

/** api_exec's answer to `api …`: an empty output becomes `-ERR no reply\n`. */
export function apiResponse(output: string): string {
  const body = output === "" ? "-ERR no reply\n" : output;
  return `Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body, "utf8")}\n\n${body}`;
}

const GOODBYE = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";

/** send_disconnect for an inbound listener (no controlled session, so no Controlled-Session-UUID). */
export const DISCONNECT_NOTICE = `Content-Type: text/disconnect-notice\nContent-Length: ${GOODBYE.length}\n\n${GOODBYE}`;
