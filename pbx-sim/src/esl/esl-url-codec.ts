/**
 * The bytes FreeSWITCH's switch_url_encode escapes (switch_utils.c, SWITCH_URL_UNSAFE): the fs-real
 * captures show `, ' ( ) / ~ . - _` going out raw while `: @ + = { } & | ; < > " %` and blanks are %XX.
 */
const UNSAFE = new Set(Array.from('\r\n #%&+:;<=>?@[\\]^`{|}"', (char) => char.charCodeAt(0)));
const HEX = "0123456789ABCDEF";
const isUpperHex = (byte: number | undefined) => byte !== undefined && HEX.includes(String.fromCharCode(byte));

/**
 * Encodes a header value as `event plain` prints it: control bytes, bytes above `~` (so each byte of a
 * UTF-8 character) and the unsafe set become `%XX`; an existing `%XX` escape is kept, as FreeSWITCH
 * does not double-encode.
 */
export function eslUrlEncode(value: string): string {
  const bytes = Buffer.from(value, "utf8");
  let out = "";
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index] ?? 0;
    const keptEscape = byte === 0x25 && isUpperHex(bytes[index + 1]) && isUpperHex(bytes[index + 2]);
    if (!keptEscape && (byte < 0x20 || byte > 0x7e || UNSAFE.has(byte))) {
      out += `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
    } else {
      out += String.fromCharCode(byte);
    }
  }
  return out;
}

/** Decodes `%XX` escapes (bytes, then UTF-8); everything else is kept as is. */
export function eslUrlDecode(value: string): string {
  if (!value.includes("%")) return value;
  const bytes: number[] = [];
  for (let index = 0; index < value.length; index++) {
    const char = value.charCodeAt(index);
    const hex = value.slice(index + 1, index + 3);
    if (char === 0x25 && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      index += 2;
    } else {
      bytes.push(...Buffer.from(value.charAt(index), "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}
