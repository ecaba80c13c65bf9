/**
 * Both simulators' fixtures (fixtures/ast-real-*.txt, fs-real-*.txt) open with '#' lines in LF
 * (`# source:`, `# scenario:`…), then the socket bytes exactly as recorded.
 */
export interface CaptureHeaders {
  /** The '#' lines, without their '#', trimmed. */
  readonly headers: readonly string[];
}

/** Splits the '#' lines off a capture; `bytes` is what follows them, untouched. */
export function splitCaptureHeaders(capture: Buffer): { headers: string[]; bytes: Buffer } {
  const headers: string[] = [];
  let offset = 0;
  while (capture[offset] === 0x23) {
    const end = capture.indexOf(0x0a, offset);
    headers.push(
      capture
        .subarray(offset + 1, end < 0 ? undefined : end)
        .toString("utf8")
        .trim(),
    );
    offset = end < 0 ? capture.length : end + 1;
  }
  return { headers, bytes: capture.subarray(offset) };
}

/** The value of a `# name: value` header line, e.g. `scenario`. */
export function captureHeader(capture: CaptureHeaders, name: string): string | undefined {
  const prefix = `${name}:`;
  return capture.headers
    .find((header) => header.startsWith(prefix))
    ?.slice(prefix.length)
    .trim();
}
