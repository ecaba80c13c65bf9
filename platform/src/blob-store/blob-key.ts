import { BlobStoreError } from "./blob-store.js";

/** S3's limit on a key, in UTF-8 bytes. */
export const maxKeyBytes = 1024;

/**
 * Checks a blob key and throws `BlobStoreError("invalid_key")` naming the rule it breaks.
 * The rules are stricter than S3's so that every key is also a safe relative path and a
 * clean URL: 1..1024 UTF-8 bytes; `/`-separated segments, none empty (no leading,
 * trailing or doubled `/`), none `.` or `..`; no control characters (C0, DEL, C1) and no
 * lone UTF-16 surrogates (they have no UTF-8 form).
 */
export function validateBlobKey(key: string): void {
  if (typeof key !== "string" || key.length === 0) throw invalid(key, "is empty");
  checkText(key);
  if (key.startsWith("/")) throw invalid(key, "starts with /");
  if (key.endsWith("/")) throw invalid(key, "ends with /");
  for (const segment of key.split("/")) {
    if (segment === "") throw invalid(key, "has an empty segment (//)");
    if (segment === "." || segment === "..") throw invalid(key, `has a "${segment}" segment`);
  }
}

/**
 * Checks a `list` prefix: "" (everything) or the start of a valid key, which may end with
 * `/` or inside a segment (`tenant/2024-0`).
 */
export function validateBlobPrefix(prefix: string): void {
  if (typeof prefix !== "string") throw invalid(prefix, "is not a string");
  if (prefix === "") return;
  checkText(prefix);
  if (prefix.startsWith("/")) throw invalid(prefix, "starts with /");
  const segments = prefix.split("/");
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === "" && !last) throw invalid(prefix, "has an empty segment (//)");
    // A last segment of "." or ".." could still grow into a valid one ("..x"); a middle one cannot.
    if (!last && (segment === "." || segment === "..")) throw invalid(prefix, `has a "${segment}" segment`);
  });
}

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkText(key: string): void {
  if (loneSurrogate.test(key)) throw invalid(key, "holds a lone surrogate (not UTF-8)");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what we refuse
  if (/[\u0000-\u001f\u007f-\u009f]/.test(key)) throw invalid(key, "holds a control character");
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes > maxKeyBytes) throw invalid(key, `is ${bytes} bytes long, more than ${maxKeyBytes}`);
}

const invalid = (key: unknown, why: string) =>
  new BlobStoreError("invalid_key", `blob key ${JSON.stringify(String(key).slice(0, 80))} ${why}`);
