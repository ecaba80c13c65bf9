/** A channel name taken apart: `PJSIP/1001-00000043`, `Local/1001@from-internal-00000005;1`. */
export interface ChannelName {
  /** Channel technology: `PJSIP`, `SIP`, `Local`, `DAHDI`… */
  tech: string;
  /** The endpoint (`1001`, `provider`) or, for Local channels, `exten@context`. */
  resource: string;
  /** Local channels only: the exten and context they run, and which half (1 or 2) this is. */
  local?: { exten: string; context: string; half: 0 | 1 | 2 };
}

/**
 * Parses what Asterisk puts in `Channel`/`DestChannel`. The `-0000002a` suffix Asterisk
 * appends to make names unique is dropped; a name without one (as in a failed
 * OriginateResponse) parses the same way.
 */
export function parseChannelName(name: string): ChannelName {
  const slash = name.indexOf("/");
  if (slash < 0) return { tech: name, resource: "" };
  const tech = name.slice(0, slash);
  let rest = name.slice(slash + 1);
  if (tech === "Local") {
    let half: 0 | 1 | 2 = 0;
    if (rest.endsWith(";1")) half = 1;
    else if (rest.endsWith(";2")) half = 2;
    if (half !== 0) rest = rest.slice(0, -2);
    const at = rest.indexOf("@");
    rest = withoutUniqueSuffix(rest, at);
    const exten = at < 0 ? rest : rest.slice(0, at);
    const context = at < 0 ? "" : rest.slice(at + 1);
    return { tech, resource: rest, local: { exten, context, half } };
  }
  return { tech, resource: withoutUniqueSuffix(rest, -1) };
}

/**
 * Drops a trailing `-0000002a` (8 hex digits: PJSIP, SIP, Local) or `-12` (a counter:
 * DAHDI, IAX2) after position `after`, keeping dashes that belong to the name.
 */
function withoutUniqueSuffix(value: string, after: number): string {
  const dash = value.lastIndexOf("-");
  if (dash <= after || dash === value.length - 1) return value;
  let digitsOnly = true;
  for (let i = dash + 1; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) continue;
    const lower = c | 0x20;
    if (lower < 0x61 || lower > 0x66) return value;
    digitsOnly = false;
  }
  return digitsOnly || value.length - dash - 1 === 8 ? value.slice(0, dash) : value;
}
