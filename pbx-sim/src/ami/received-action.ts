/** An action a client sent: `name` is its Action value as sent, `fields` its headers keyed as sent. */
export interface ReceivedAction {
  readonly name: string;
  /** Repeated keys (e.g. `Variable`) become arrays in arrival order. */
  readonly fields: Readonly<Record<string, string | string[]>>;
}

const skipBlanks = (value: string) => value.replace(/^[ \t]+/, "");

/**
 * A header's value as Asterisk's astman_get_header finds it: the key matched case-insensitively and
 * directly followed by a colon, leading blanks dropped; the first match, or the first non-empty one
 * with `skipEmpty`. Absent headers read as "".
 */
export function actionHeader(headers: readonly string[], key: string, skipEmpty = false): string {
  const wanted = key.toLowerCase();
  for (const header of headers) {
    if (header.length <= key.length || header[key.length] !== ":") continue;
    if (header.slice(0, key.length).toLowerCase() !== wanted) continue;
    const value = skipBlanks(header.slice(key.length + 1));
    if (skipEmpty && value === "") continue;
    return value;
  }
  return "";
}

/** The message as the simulator records it; undefined when it names no action. */
export function toReceivedAction(headers: readonly string[]): ReceivedAction | undefined {
  const name = actionHeader(headers, "Action", true);
  if (name === "") return undefined;
  const fields: Record<string, string | string[]> = {};
  for (const header of headers) {
    const colon = header.indexOf(":");
    if (colon <= 0) continue;
    const key = header.slice(0, colon);
    const value = skipBlanks(header.slice(colon + 1));
    const seen = fields[key];
    if (seen === undefined) fields[key] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else fields[key] = [seen, value];
  }
  return { name, fields };
}

/**
 * Splits one `Variable:` value the way AST_STANDARD_APP_ARGS does: on commas outside quotes and
 * brackets, quotes removed, backslash escaping the next character.
 */
function splitArguments(value: string): string[] {
  const parts: string[] = [];
  let current = "";
  let depth = 0;
  let quoted = false;
  for (let index = 0; index < value.length; index++) {
    const char = value.charAt(index);
    if (char === "\\" && index + 1 < value.length) {
      current += value.charAt(++index);
    } else if (char === '"') {
      quoted = !quoted;
    } else if (!quoted && (char === "(" || char === "[")) {
      depth++;
      current += char;
    } else if (!quoted && (char === ")" || char === "]") && depth > 0) {
      depth--;
      current += char;
    } else if (char === "," && !quoted && depth === 0) {
      parts.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

/**
 * The channel variables an Originate asks for, in the order the client wrote them: every
 * `Variable:` header, each possibly `A=1,B=2`; items without `=` or a name are skipped, as Asterisk does.
 */
export function actionVariables(headers: readonly string[]): Array<readonly [name: string, value: string]> {
  const variables: Array<readonly [string, string]> = [];
  for (const header of headers) {
    if (header.slice(0, "Variable:".length).toLowerCase() !== "variable:") continue;
    for (const item of splitArguments(skipBlanks(header.slice("Variable:".length)))) {
      const equals = item.indexOf("=");
      if (equals <= 0) continue;
      variables.push([item.slice(0, equals), item.slice(equals + 1)]);
    }
  }
  return variables;
}
