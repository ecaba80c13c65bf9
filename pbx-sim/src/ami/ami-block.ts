/** One `Key: Value` line of an AMI message, kept as written: `separator` is what sat between key and value. */
export interface AmiLine {
  readonly key: string;
  readonly separator: string;
  readonly value: string;
}

/** An AMI message (Action, Response or Event): its lines in wire order, repeated keys kept. */
export type AmiBlock = ReadonlyArray<AmiLine>;

/** Splits one line at its first colon; a line without one keeps it all as key with an empty value. */
export function parseAmiLine(line: string): AmiLine {
  const colon = line.indexOf(":");
  if (colon < 0) return { key: line, separator: "", value: "" };
  const separator = line.startsWith(" ", colon + 1) ? ": " : ":";
  return { key: line.slice(0, colon), separator, value: line.slice(colon + separator.length) };
}

/** Parses a message's text (CRLF or LF lines, without the closing blank line). Values keep trailing spaces. */
export function parseAmiBlock(text: string): AmiBlock {
  return text
    .split(/\r?\n/)
    .filter((line) => line !== "")
    .map(parseAmiLine);
}

/** Writes a message as Asterisk does: `Key: Value` CRLF lines and one blank line. */
export function formatAmiBlock(lines: ReadonlyArray<readonly [key: string, value: string]>): string {
  return `${lines.map(([key, value]) => `${key}: ${value}\r\n`).join("")}\r\n`;
}

/** Splits a stream of AMI output into its banner (if the text starts with one) and its messages. */
export function splitAmiStream(text: string): { banner: string | undefined; blocks: AmiBlock[] } {
  let rest = text;
  let banner: string | undefined;
  const bannerMatch = /^Asterisk Call Manager\/[^\r\n]*\r?\n/.exec(rest);
  if (bannerMatch) {
    banner = bannerMatch[0].replace(/\r?\n$/, "");
    rest = rest.slice(bannerMatch[0].length);
  }
  const blocks = rest
    .split(/\r?\n\r?\n/)
    .filter((chunk) => chunk.trim() !== "")
    .map(parseAmiBlock);
  return { banner, blocks };
}

/** The first value of `key` (case-insensitive, as Asterisk reads headers), or undefined. */
export function blockValue(block: AmiBlock, key: string): string | undefined {
  const wanted = key.toLowerCase();
  return block.find((line) => line.key.toLowerCase() === wanted)?.value;
}
