/** An `originate` the simulator can play: `{vars}user/<ext>[@domain]` then `&bridge(…/<number>)` or `<number> [XML] [context]`. */
export interface EslOriginateRequest {
  readonly extension: string;
  /** The number the agent is connected to once it answers. */
  readonly destination: string;
  /** `{vars}` in the order sent, quotes removed. */
  readonly variables: ReadonlyArray<readonly [name: string, value: string]>;
  readonly timeoutSec: number;
  readonly callerIdName: string | undefined;
  readonly callerIdNumber: string | undefined;
}

export type ParsedOriginate =
  | { readonly ok: true; readonly request: EslOriginateRequest }
  /** The api output FreeSWITCH gives instead (`-USAGE: …`, `-ERR …`), newline included. */
  | { readonly ok: false; readonly reply: string };

const USAGE =
  "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n";
// FreeSWITCH's originate timeout when neither originate_timeout nor <timeout_sec> is given.
const DEFAULT_TIMEOUT_SEC = 60;

/** switch_separate_string on spaces: single quotes group words and are removed. */
function separate(text: string): string[] {
  const words: string[] = [];
  let current = "";
  let quoted = false;
  let braces = 0;
  for (const char of text) {
    if (char === "'" && braces === 0) quoted = !quoted;
    else if (char === " " && !quoted && braces === 0) {
      if (current !== "") words.push(current);
      current = "";
      continue;
    }
    if (char === "{") braces++;
    if (char === "}" && braces > 0) braces--;
    if (char !== "'" || braces > 0) current += char;
  }
  if (current !== "") words.push(current);
  return words;
}

/** `a=1,b='x, y'` → [[a, 1], [b, x, y]] as switch_event_create_brackets reads a `{…}` block. */
export function parseOriginateVariables(block: string): Array<readonly [string, string]> {
  const variables: Array<readonly [string, string]> = [];
  let current = "";
  let quoted = false;
  const flush = () => {
    const equals = current.indexOf("=");
    if (equals > 0) variables.push([current.slice(0, equals), current.slice(equals + 1)]);
    current = "";
  };
  for (const char of block) {
    if (char === "'") quoted = !quoted;
    else if (char === "," && !quoted) flush();
    else current += char;
  }
  flush();
  return variables;
}

/** Reads an originate's arguments (what follows `originate `). */
export function parseOriginate(argument: string): ParsedOriginate {
  const words = separate(argument.trim());
  if (words.length < 2 || words.length > 7) return { ok: false, reply: USAGE };
  const [url = "", exten = "", , , cidName, cidNumber, timeoutWord] = words;
  let variables: Array<readonly [string, string]> = [];
  let endpoint = url;
  if (url.startsWith("{")) {
    const close = url.indexOf("}");
    if (close < 0) return { ok: false, reply: "-ERR INVALID_URL\n" };
    variables = parseOriginateVariables(url.slice(1, close));
    endpoint = url.slice(close + 1);
  }
  const user = /^user\/([^@/]+)(@.*)?$/.exec(endpoint);
  // The simulated switch has phones only: another endpoint cannot be dialled.
  if (!user?.[1]) return { ok: false, reply: "-ERR CHAN_NOT_IMPLEMENTED\n" };
  const bridge = /^&bridge\((.*)\)$/.exec(exten);
  const destination = bridge ? (bridge[1] ?? "").split("/").at(-1) : exten.startsWith("&") ? undefined : exten;
  if (!destination) return { ok: false, reply: "-ERR CHAN_NOT_IMPLEMENTED\n" };
  const variable = (name: string) => variables.find(([key]) => key === name)?.[1];
  const timeout = Number.parseInt(variable("originate_timeout") ?? timeoutWord ?? "", 10);
  return {
    ok: true,
    request: {
      extension: user[1],
      destination,
      variables,
      timeoutSec: Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_TIMEOUT_SEC,
      callerIdName: variable("origination_caller_id_name") ?? cidName,
      callerIdNumber: variable("origination_caller_id_number") ?? cidNumber,
    },
  };
}
