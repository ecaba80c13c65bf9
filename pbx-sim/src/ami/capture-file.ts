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
  const headers: string[] = [];
  let offset = 0;
  while (text.startsWith("#", offset)) {
    const end = text.indexOf("\n", offset);
    headers.push(text.slice(offset + 1, end < 0 ? undefined : end).trim());
    offset = end < 0 ? text.length : end + 1;
  }
  const bannerEnd = text.indexOf("\r\n", offset);
  if (bannerEnd < 0) throw new Error("capture has no banner line");
  const banner = text.slice(offset, bannerEnd);
  if (!banner.startsWith("Asterisk Call Manager/")) throw new Error(`capture starts with ${JSON.stringify(banner)}`);
  const blocks = text
    .slice(bannerEnd + 2)
    .split("\r\n\r\n")
    .filter((chunk) => chunk !== "")
    .map(parseAmiBlock);
  return { headers, banner, blocks };
}

/** The value of a `# name: value` header line, e.g. `scenario`. */
export function captureHeader(capture: CaptureFile, name: string): string | undefined {
  const prefix = `${name}:`;
  return capture.headers
    .find((header) => header.startsWith(prefix))
    ?.slice(prefix.length)
    .trim();
}
