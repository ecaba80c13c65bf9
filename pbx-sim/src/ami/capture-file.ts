import { splitCaptureHeaders } from "../shared/capture-headers.js";
import { type AmiBlock, parseAmiBlock } from "./ami-block.js";

/** A recorded AMI session as stored in fixtures/ast-real-*.txt. */
export interface CaptureFile {
  /** The '#' lines before the socket bytes (`# source:`, `# scenario:`…), without their '#'. */
  readonly headers: readonly string[];
  readonly banner: string;
  /** Every message after the banner, in order, as received (Responses to the recorder included). */
  readonly blocks: readonly AmiBlock[];
}

/** Parses a capture: '#' header lines in LF, then the raw CRLF bytes from the banner on. */
export function parseCaptureFile(text: string): CaptureFile {
  // Text read as UTF-8 goes back to the same bytes: nothing of the recording changes on the way.
  const split = splitCaptureHeaders(Buffer.from(text, "utf8"));
  const session = split.bytes.toString("utf8");
  const bannerEnd = session.indexOf("\r\n");
  if (bannerEnd < 0) throw new Error("capture has no banner line");
  const banner = session.slice(0, bannerEnd);
  if (!banner.startsWith("Asterisk Call Manager/")) throw new Error(`capture starts with ${JSON.stringify(banner)}`);
  const blocks = session
    .slice(bannerEnd + 2)
    .split("\r\n\r\n")
    .filter((chunk) => chunk !== "")
    .map(parseAmiBlock);
  return { headers: split.headers, banner, blocks };
}

export { captureHeader } from "../shared/capture-headers.js";
