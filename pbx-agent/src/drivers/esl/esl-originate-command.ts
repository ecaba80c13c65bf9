/**
 * The arguments of an `originate` as FreeSWITCH echoes them (`API-Command-Argument`,
 * `Job-Command-Arg`): `{a=1,b='x y'}user/1001 &bridge(sofia/gateway/provider/00357…)`
 * or `{…}user/1001 0035799123456 XML default`.
 */
export interface OriginateArguments {
  /** The `{…}` channel variables, in order. */
  variables: Record<string, string>;
  /** The extension of a `user/<ext>[@domain]` endpoint, else "". */
  extension: string;
  /** `&app(data)`: the application run once the first leg answers, else undefined. */
  application: { name: string; data: string } | undefined;
  /** The number dialed once the first leg answers: the dialplan extension, or the bridge target's user part. */
  destination: string;
}

export function parseOriginateArguments(text: string): OriginateArguments {
  let rest = text.trim();
  const variables: Record<string, string> = {};
  if (rest.startsWith("{")) {
    const close = closingBrace(rest);
    for (const [name, value] of splitVariables(rest.slice(1, close))) variables[name] = value;
    rest = rest.slice(close + 1).trimStart();
  }
  const space = rest.indexOf(" ");
  const endpoint = space < 0 ? rest : rest.slice(0, space);
  const target = space < 0 ? "" : rest.slice(space + 1).trim();
  const extension = endpoint.startsWith("user/") ? userOf(endpoint.slice(5)) : "";
  if (target.startsWith("&")) {
    const open = target.indexOf("(");
    const name = (open < 0 ? target.slice(1) : target.slice(1, open)).trim();
    const data =
      open < 0 ? "" : target.slice(open + 1, target.lastIndexOf(")") < 0 ? undefined : target.lastIndexOf(")"));
    return {
      variables,
      extension,
      application: { name, data },
      destination: name === "bridge" ? bridgeDestination(data) : "",
    };
  }
  return { variables, extension, application: undefined, destination: target.split(/\s+/)[0] ?? "" };
}

/** The number a bridge dial string reaches: `sofia/gateway/provider/0035…` → `0035…`, `user/1002@d` → `1002`. */
export function bridgeDestination(dialString: string): string {
  // Of several targets (`,` all at once, `|` one after another) the first names the destination.
  let target = dialString.trim();
  while (target.startsWith("{") || target.startsWith("[") || target.startsWith("<")) {
    const close = target.indexOf(target[0] === "{" ? "}" : target[0] === "[" ? "]" : ">");
    if (close < 0) break;
    target = target.slice(close + 1);
  }
  const first = target.split(/[,|:]/)[0] ?? "";
  const parts = first.split("/");
  return userOf(parts.at(-1) ?? "");
}

function userOf(value: string): string {
  const at = value.indexOf("@");
  return (at < 0 ? value : value.slice(0, at)).trim();
}

function closingBrace(text: string): number {
  let quoted = false;
  for (let i = 1; i < text.length; i++) {
    const char = text[i];
    if (char === "'") quoted = !quoted;
    else if (char === "}" && !quoted) return i;
  }
  return text.length;
}

/** `a=1,b='x, y'`: commas inside single quotes belong to the value. */
function splitVariables(text: string): [string, string][] {
  const result: [string, string][] = [];
  let current = "";
  let quoted = false;
  const flush = () => {
    const equals = current.indexOf("=");
    if (equals > 0) {
      let value = current.slice(equals + 1);
      if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1);
      result.push([current.slice(0, equals).trim(), value]);
    }
    current = "";
  };
  for (const char of text) {
    if (char === "'") quoted = !quoted;
    if (char === "," && !quoted) flush();
    else current += char;
  }
  flush();
  return result;
}

/**
 * Variables FreeSWITCH itself reads on an originate; the rest of the `{…}` list is the
 * CRM's own (crm_id…), echoed back on the call's events and Cdr.
 */
const FREESWITCH_ORIGINATE_VARIABLES = new Set([
  "ignore_early_media",
  "hangup_after_bridge",
  "call_timeout",
  "leg_timeout",
  "leg_delay_start",
  "absolute_codec_string",
  "bypass_media",
  "proxy_media",
  "continue_on_fail",
  "fail_on_single_reject",
  "presence_id",
  "instant_ringback",
  "ringback",
  "transfer_ringback",
  "group_confirm_file",
  "group_confirm_key",
  "return_ring_ready",
  "execute_on_answer",
  "api_on_answer",
  "park_after_bridge",
  "playback_terminators",
  "sip_auto_answer",
]);

const FREESWITCH_ORIGINATE_PREFIXES = [
  "origination_",
  "originate_",
  "effective_",
  "sip_",
  "rtp_",
  "media_",
  "callmesh_",
];

export function isCrmVariable(name: string): boolean {
  return (
    !FREESWITCH_ORIGINATE_VARIABLES.has(name) &&
    !FREESWITCH_ORIGINATE_PREFIXES.some((prefix) => name.startsWith(prefix))
  );
}
