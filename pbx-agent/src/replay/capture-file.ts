/**
 * The bytes of a capture file without its leading `#` comment lines (source, scenario,
 * commands sent), which are the file's and not the PBX's. Only the leading ones: a `#`
 * later on belongs to the session.
 */
export function withoutCommentHeader(bytes: Uint8Array): Uint8Array {
  const hash = 0x23;
  const newline = 0x0a;
  let start = 0;
  while (start < bytes.length && bytes[start] === hash) {
    const end = bytes.indexOf(newline, start);
    if (end === -1) return bytes.subarray(bytes.length);
    start = end + 1;
  }
  return bytes.subarray(start);
}
