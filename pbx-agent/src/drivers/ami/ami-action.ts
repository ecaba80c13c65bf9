import { AmiError } from "./ami-error.js";

/**
 * Fields of an action. A record for the common case; an array value (or a list of
 * pairs) repeats the key, as `Variable:` needs. Undefined values are left out.
 */
export type AmiActionFields =
  | Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>
  | ReadonlyArray<readonly [string, string]>;

const KEY = /^[A-Za-z0-9_-]+$/;

/**
 * Writes one action as AMI text. Refuses what would break the framing: a CR or LF in
 * a value ends the line early and lets the rest be read as further headers or actions.
 */
export function formatAmiAction(action: string, actionId: string, fields: AmiActionFields = {}): string {
  let text = `Action: ${checked("Action", action)}\r\nActionID: ${checked("ActionID", actionId)}\r\n`;
  const pairs: Iterable<readonly [string, unknown]> = Array.isArray(fields)
    ? (fields as ReadonlyArray<readonly [string, string]>)
    : Object.entries(fields);
  for (const [key, value] of pairs) {
    if (value === undefined) continue;
    if (!KEY.test(key)) throw new AmiError("invalid_argument", `invalid AMI key ${JSON.stringify(key)}`);
    for (const item of Array.isArray(value) ? value : [value]) text += `${key}: ${checked(key, String(item))}\r\n`;
  }
  return `${text}\r\n`;
}

function checked(key: string, value: string): string {
  if (value.includes("\r") || value.includes("\n")) {
    throw new AmiError("invalid_argument", `AMI field ${key} must not contain CR or LF`);
  }
  return value;
}
