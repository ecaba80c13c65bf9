import { BlobStoreError, type ByteRange } from "./blob-store.js";

/** Inclusive byte positions within a blob. */
export interface ResolvedRange {
  start: number;
  end: number;
}

/** Checks a range as the caller gave it, before the blob's size is known. */
export function validateByteRange(range: ByteRange): void {
  const ok =
    "suffix" in range
      ? Number.isSafeInteger(range.suffix) && range.suffix > 0
      : Number.isSafeInteger(range.start) &&
        range.start >= 0 &&
        (range.end === undefined || (Number.isSafeInteger(range.end) && range.end >= range.start));
  if (!ok) throw new BlobStoreError("invalid_argument", `not a byte range: ${JSON.stringify(range)}`);
}

/** Where `range` falls in a blob of `size` bytes, as HTTP does it; throws `invalid_range` when nothing does. */
export function resolveByteRange(range: ByteRange, size: number): ResolvedRange {
  validateByteRange(range);
  if ("suffix" in range) {
    if (size === 0) throw new BlobStoreError("invalid_range", "a suffix range of an empty blob");
    return { start: Math.max(0, size - range.suffix), end: size - 1 };
  }
  if (range.start >= size) {
    throw new BlobStoreError("invalid_range", `range starts at ${range.start}, the blob has ${size} bytes`);
  }
  return { start: range.start, end: Math.min(range.end ?? size - 1, size - 1) };
}

/** The `Range` header value for `range`. */
export const formatRangeHeader = (range: ByteRange): string =>
  "suffix" in range ? `bytes=-${range.suffix}` : `bytes=${range.start}-${range.end ?? ""}`;

/**
 * Reads a `Range` header. Only one `bytes` range is understood; anything else (several
 * ranges, other units, garbage) answers undefined, and the whole blob is served, which
 * RFC 9110 allows.
 */
export function parseRangeHeader(header: string | undefined): ByteRange | undefined {
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header ?? "");
  if (!match) return undefined;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return undefined;
  if (first === "") return Number(last) > 0 ? { suffix: Number(last) } : undefined;
  const start = Number(first);
  const end = last === "" ? undefined : Number(last);
  if (end !== undefined && end < start) return undefined;
  return { start, end };
}

/** The `Content-Range` of an S3 or HTTP response: the range served and the whole size. */
export function parseContentRange(
  header: string | undefined,
): { start: number; end: number; size: number } | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header?.trim() ?? "");
  if (!match) return undefined;
  return { start: Number(match[1]), end: Number(match[2]), size: Number(match[3]) };
}
