import { formatAmiBlock } from "./ami-block.js";

/**
 * A Response as main/manager.c writes one (astman_send_response_full, astman_start_ack): `Response`,
 * then `ActionID` when the action had one, then the action's own lines, then a blank line.
 */
export function formatResponse(
  response: string,
  actionId: string,
  ...lines: ReadonlyArray<readonly [key: string, value: string]>
): string {
  return formatAmiBlock([
    ["Response", response],
    ...(actionId === "" ? [] : [["ActionID", actionId] as const]),
    ...lines,
  ]);
}

/** `Response: Error` with the message Asterisk gives. */
export const formatError = (actionId: string, message: string) =>
  formatResponse("Error", actionId, ["Message", message]);

/** `Response: Success` with a message (astman_send_ack). */
export const formatAck = (actionId: string, message: string) =>
  formatResponse("Success", actionId, ["Message", message]);
