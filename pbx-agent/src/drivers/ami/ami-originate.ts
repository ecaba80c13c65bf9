import { CommandStatus, type Originate } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import type { CommandOutcome } from "../../ports/pbx-driver.js";
import { CALL_ID_VARIABLE } from "./ami-event-handlers.js";
import type { AmiMessage } from "./ami-message.js";

/** What an extension or a number may contain: dialable characters, nothing that changes the channel or dialplan. */
const DIALABLE = /^[0-9A-Za-z+*#-]{1,64}$/;
/** A channel variable name; leading underscores make it inherited. */
const VARIABLE_NAME = /^_{0,2}[A-Za-z][A-Za-z0-9_]{0,63}$/;

export interface OriginatePlan {
  /** The Originate action's fields, in order. */
  fields: [string, string][];
  /** How long Asterisk lets the agent's phone ring. */
  ringTimeoutMs: number;
}

/**
 * Turns a click-to-call command into an async Originate: ring `Local/<extension>@<context>`,
 * then run `<destination>` in `<context>`, with the call id and the CRM's variables set on
 * the channel. Returns a refusal message instead when the command cannot be sent safely.
 */
export function planOriginate(
  command: Originate,
  context: string,
  defaultRingSeconds: number,
): OriginatePlan | { refusal: string } {
  if (!DIALABLE.test(command.extension)) return { refusal: "invalid extension" };
  if (!DIALABLE.test(command.destination)) return { refusal: "invalid destination number" };
  if (command.callId === "" || hasLineBreak(command.callId)) return { refusal: "invalid call id" };
  if (hasLineBreak(command.callerId)) return { refusal: "caller id must not contain CR or LF" };
  const variables: [string, string][] = [["Variable", `${CALL_ID_VARIABLE}=${escapeVariableValue(command.callId)}`]];
  for (const [name, value] of Object.entries(command.variables)) {
    if (!VARIABLE_NAME.test(name) || name.startsWith("CALLMESH_")) return { refusal: `invalid variable name ${name}` };
    if (hasLineBreak(value)) return { refusal: `variable ${name} must not contain CR or LF` };
    variables.push(["Variable", `${name}=${escapeVariableValue(value)}`]);
  }
  const ringTimeoutMs =
    (command.timeoutSeconds > 0 ? Math.min(command.timeoutSeconds, 600) : defaultRingSeconds) * 1000;
  const fields: [string, string][] = [
    ["Channel", `Local/${command.extension}@${context}`],
    ["Context", context],
    ["Exten", command.destination],
    ["Priority", "1"],
  ];
  if (command.callerId !== "") fields.push(["CallerID", command.callerId]);
  fields.push(["Timeout", String(ringTimeoutMs)], ["Async", "true"], ...variables);
  return { fields, ringTimeoutMs };
}

/**
 * Asterisk splits a `Variable:` header on commas and strips quotes and backslashes
 * (app.c `__ast_app_separate_args`), so a value is sent with those three escaped.
 */
export function escapeVariableValue(value: string): string {
  return value.replace(/[\\",]/g, "\\$&");
}

/**
 * The ExtensionState answer as a refusal, or undefined when the phone can be rung.
 * Status -1 (no such extension or hint) and -2 (removed) → unknown; 4 → unavailable
 * (nothing registered). Idle, in use, busy, ringing all may still take a call.
 */
export function extensionStateRefusal(response: AmiMessage, extension: string): CommandOutcome | undefined {
  if (response.response !== "Success") {
    return {
      status: CommandStatus.PBX_REFUSED,
      message: `ExtensionState refused: ${response.get("Message") ?? response.response ?? ""}`,
    };
  }
  const status = Number(response.get("Status"));
  if (status === -1 || status === -2) {
    return { status: CommandStatus.EXTENSION_UNKNOWN, message: `extension ${extension} is unknown to the PBX` };
  }
  if (status === 4) {
    return { status: CommandStatus.EXTENSION_UNAVAILABLE, message: `extension ${extension} has no registered device` };
  }
  return undefined;
}

function hasLineBreak(value: string): boolean {
  return value.includes("\r") || value.includes("\n");
}
