import { CommandStatus, type Originate } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import type { CommandOutcome } from "../../ports/pbx-driver.js";
import { CALL_ID_VARIABLE } from "./esl-event-handlers.js";

/** What an extension or a number may contain: dialable characters, nothing that changes the dial string. */
const DIALABLE = /^[0-9A-Za-z+*#-]{1,64}$/;
const VARIABLE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** Characters a `{…}` value cannot hold even quoted: they end the value, the list or the command. */
const UNSAFE_VALUE = /['{}\r\n]/;
const CONTEXT = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The `bgapi originate` of a click-to-call: ring `user/<extension>`, and once the agent
 * answers run `<destination>` through the dialplan (`XML <context>`), so extensions and
 * outside numbers go where the PBX's own routes send them. The agent's phone shows the
 * destination (`origination_caller_id_number`); the far end sees the agent's extension
 * (`effective_caller_id_number`) unless the outbound route says otherwise. The call id
 * and the CRM's variables ride on the agent's leg. Returns a refusal when the command
 * cannot be sent safely.
 */
export function buildOriginateCommand(
  command: Originate,
  context: string,
  defaultRingSeconds: number,
): { command: string } | { refusal: string } {
  if (!DIALABLE.test(command.extension)) return { refusal: "invalid extension" };
  if (!DIALABLE.test(command.destination)) return { refusal: "invalid destination number" };
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(command.callId)) return { refusal: "invalid call id" };
  if (!CONTEXT.test(context)) return { refusal: "invalid dialplan context" };
  if (command.callerId !== "" && !DIALABLE.test(command.callerId)) return { refusal: "invalid caller id" };
  const ringSeconds = command.timeoutSeconds > 0 ? Math.min(command.timeoutSeconds, 600) : defaultRingSeconds;
  const variables: [string, string][] = [
    [CALL_ID_VARIABLE, command.callId],
    ["origination_caller_id_number", command.callerId || command.destination],
    ["effective_caller_id_number", command.extension],
    ["originate_timeout", String(ringSeconds)],
    ["ignore_early_media", "true"],
  ];
  for (const [name, value] of Object.entries(command.variables)) {
    if (!VARIABLE_NAME.test(name) || name.startsWith("callmesh_") || name.startsWith("origination_")) {
      return { refusal: `invalid variable name ${name}` };
    }
    if (UNSAFE_VALUE.test(value)) return { refusal: `variable ${name} must not contain ' { } or a line break` };
    variables.push([name, value]);
  }
  const list = variables.map(([name, value]) => `${name}=${quoteValue(value)}`).join(",");
  return { command: `originate {${list}}user/${command.extension} ${command.destination} XML ${context}` };
}

/** A value with a comma or a space is single-quoted, as FreeSWITCH reads `{a='x, y'}`. */
function quoteValue(value: string): string {
  return /[,\s]/.test(value) || value === "" ? `'${value}'` : value;
}

/**
 * The BACKGROUND_JOB verdict of an originate, when it came before the driver answered:
 * `+OK <uuid>` (the agent answered) or `-ERR <CAUSE>`.
 */
export function outcomeOfOriginateJob(body: string): CommandOutcome {
  const text = body.trim();
  if (text.startsWith("+OK")) return { status: CommandStatus.OK, message: "agent answered" };
  const cause = /^-ERR\s+(\S+)/.exec(text)?.[1] ?? text;
  switch (cause) {
    case "NO_ANSWER":
    case "NO_USER_RESPONSE":
    case "ORIGINATOR_CANCEL":
    case "ALLOTTED_TIMEOUT":
      // The phone rang: the command did what it could; the call's events and Cdr tell the rest.
      return { status: CommandStatus.OK, message: `the extension rang without answer: ${cause}` };
    case "SUBSCRIBER_ABSENT":
    case "NO_ROUTE_DESTINATION":
    case "UNALLOCATED_NUMBER":
    case "INVALID_NUMBER_FORMAT":
      return { status: CommandStatus.EXTENSION_UNKNOWN, message: `originate failed: ${cause}` };
    case "USER_NOT_REGISTERED":
    case "DESTINATION_OUT_OF_ORDER":
      return { status: CommandStatus.EXTENSION_UNAVAILABLE, message: `originate failed: ${cause}` };
    default:
      return { status: CommandStatus.PBX_REFUSED, message: `originate failed: ${cause}` };
  }
}
