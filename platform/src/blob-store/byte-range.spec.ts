import assert from "node:assert/strict";
import { it } from "node:test";
import { isBlobStoreError } from "./blob-store.js";
import { formatRangeHeader, parseContentRange, parseRangeHeader, resolveByteRange } from "./byte-range.js";

it("reads one bytes range from a Range header and ignores what it does not understand", () => {
  assert.deepEqual(parseRangeHeader("bytes=0-9"), { start: 0, end: 9 });
  assert.deepEqual(parseRangeHeader("bytes=10-"), { start: 10, end: undefined });
  assert.deepEqual(parseRangeHeader("bytes=-5"), { suffix: 5 });
  assert.deepEqual(parseRangeHeader(" bytes = 3 - 4 "), { start: 3, end: 4 });
  for (const header of [
    undefined,
    "",
    "bytes=",
    "bytes=-",
    "bytes=-0",
    "bytes=5-2",
    "bytes=0-1,3-4",
    "items=0-1",
    "x",
  ]) {
    assert.equal(parseRangeHeader(header), undefined, String(header));
  }
});

it("resolves ranges against a size as HTTP does", () => {
  assert.deepEqual(resolveByteRange({ start: 0, end: 9 }, 100), { start: 0, end: 9 });
  assert.deepEqual(resolveByteRange({ start: 90, end: 500 }, 100), { start: 90, end: 99 });
  assert.deepEqual(resolveByteRange({ start: 90 }, 100), { start: 90, end: 99 });
  assert.deepEqual(resolveByteRange({ suffix: 10 }, 100), { start: 90, end: 99 });
  assert.deepEqual(resolveByteRange({ suffix: 1000 }, 100), { start: 0, end: 99 });
  assert.throws(
    () => resolveByteRange({ start: 100 }, 100),
    (e) => isBlobStoreError(e, "invalid_range"),
  );
  assert.throws(
    () => resolveByteRange({ suffix: 1 }, 0),
    (e) => isBlobStoreError(e, "invalid_range"),
  );
  assert.throws(
    () => resolveByteRange({ start: -1 }, 100),
    (e) => isBlobStoreError(e, "invalid_argument"),
  );
  assert.throws(
    () => resolveByteRange({ start: 1.5 }, 100),
    (e) => isBlobStoreError(e, "invalid_argument"),
  );
});

it("formats Range and reads Content-Range", () => {
  assert.equal(formatRangeHeader({ start: 1, end: 2 }), "bytes=1-2");
  assert.equal(formatRangeHeader({ start: 7 }), "bytes=7-");
  assert.equal(formatRangeHeader({ suffix: 3 }), "bytes=-3");
  assert.deepEqual(parseContentRange("bytes 0-9/1000"), { start: 0, end: 9, size: 1000 });
  assert.equal(parseContentRange("bytes */1000"), undefined);
  assert.equal(parseContentRange(undefined), undefined);
});
