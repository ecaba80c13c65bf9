const CR = 13;
const LF = 10;

/**
 * FreeSWITCH writes LF only, and counts Content-Length in those bytes. A capture saved
 * with CRLF line endings (an editor, a Windows checkout) would have every length wrong,
 * so a stream whose first line ends in CRLF has the CR of every CRLF removed. A stream
 * starting with LF is passed through untouched: live traffic never pays for this.
 */
export function createLineEndingNormalizer(): (chunk: Uint8Array) => Uint8Array {
  let mode: "unknown" | "lf" | "crlf" = "unknown";
  let heldCr = false;
  return (chunk) => {
    if (mode === "lf") return chunk;
    if (mode === "unknown") {
      const lf = chunk.indexOf(LF);
      if (lf < 0) return chunk;
      mode = lf > 0 && chunk[lf - 1] === CR ? "crlf" : "lf";
      if (mode === "lf") return chunk;
    }
    const out = Buffer.allocUnsafe(chunk.length + 1);
    let length = 0;
    if (heldCr && chunk[0] !== LF) out[length++] = CR;
    heldCr = false;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (byte === CR) {
        if (i + 1 === chunk.length) heldCr = true;
        else if (chunk[i + 1] !== LF) out[length++] = CR;
        continue;
      }
      out[length++] = byte;
    }
    return out.subarray(0, length);
  };
}
