import { splitCaptureHeaders } from "../shared/capture-headers.js";

/** One frame of an ESL byte stream: its header block, values as sent, and its Content-Length body. */
export interface EslFrame {
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>;
  readonly body: string;
  /** The frame's bytes exactly as recorded. */
  readonly raw: string;
}

/** A recorded inbound ESL session as stored in fixtures/fs-real-*.txt. */
export interface EslCaptureFile {
  /** The '#' lines before the socket bytes (`# source:`, `# scenario:`, `# commands sent:`), without their '#'. */
  readonly headers: readonly string[];
  /** Every frame from `auth/request` on, in order. */
  readonly frames: readonly EslFrame[];
}

export const frameHeader = (frame: EslFrame, name: string) => frame.headers.find(([key]) => key === name)?.[1];

/** Splits LF-framed ESL bytes into frames: a header block ended by a blank line, then Content-Length bytes. */
export function splitEslFrames(bytes: Buffer): EslFrame[] {
  const frames: EslFrame[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const end = bytes.indexOf("\n\n", offset);
    if (end < 0) throw new Error(`truncated frame at byte ${offset}`);
    const headers = bytes
      .subarray(offset, end)
      .toString("utf8")
      .split("\n")
      .map((line) => {
        const colon = line.indexOf(": ");
        return [line.slice(0, colon), line.slice(colon + 2)] as const;
      });
    const length = Number(headers.find(([key]) => key === "Content-Length")?.[1] ?? 0);
    const bodyEnd = end + 2 + length;
    if (bodyEnd > bytes.length) throw new Error(`frame at byte ${offset} lacks ${bodyEnd - bytes.length} body bytes`);
    frames.push({
      headers,
      body: bytes.subarray(end + 2, bodyEnd).toString("utf8"),
      raw: bytes.subarray(offset, bodyEnd).toString("utf8"),
    });
    offset = bodyEnd;
  }
  return frames;
}

/** Parses a capture: '#' header lines, then the raw bytes the event socket sent. */
export function parseEslCaptureFile(bytes: Buffer): EslCaptureFile {
  const split = splitCaptureHeaders(bytes);
  const frames = splitEslFrames(split.bytes);
  if (frameHeader(frames[0] ?? { headers: [], body: "", raw: "" }, "Content-Type") !== "auth/request") {
    throw new Error("capture does not start with auth/request");
  }
  return { headers: split.headers, frames };
}

export { captureHeader as eslCaptureHeader } from "../shared/capture-headers.js";
