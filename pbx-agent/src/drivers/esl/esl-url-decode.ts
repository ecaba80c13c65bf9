/**
 * FreeSWITCH URL-encodes `text/event-plain` values (`%20`, `%3A`…) but leaves `, ' ( )`
 * and `+` raw, so `+` is never a space here. A malformed escape or a byte sequence that
 * is not UTF-8 must not throw: such values are decoded byte by byte instead.
 */
export function decodeEslValue(raw: string): string {
  if (raw.indexOf("%") < 0) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return decodeLeniently(raw);
  }
}

function decodeLeniently(raw: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code === 37 && i + 2 < raw.length) {
      const value = Number.parseInt(raw.slice(i + 1, i + 3), 16);
      if (!Number.isNaN(value) && /^[0-9A-Fa-f]{2}$/.test(raw.slice(i + 1, i + 3))) {
        bytes.push(value);
        i += 2;
        continue;
      }
    }
    if (code < 0x80) bytes.push(code);
    else for (const byte of Buffer.from(raw[i] ?? "", "utf8")) bytes.push(byte);
  }
  return Buffer.from(bytes).toString("utf8");
}
