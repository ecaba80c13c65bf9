// The behaviour every BlobStore adapter keeps, run by each adapter's spec.
import assert from "node:assert/strict";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type BlobStore, type BlobStoreErrorCode, isBlobStoreError, minPartSize } from "./blob-store.js";

export interface BlobStoreUnderTest {
  store: BlobStore;
  /** Stops what `open` started; the suite has already deleted what it stored. */
  close(): Promise<void>;
  /**
   * The server takes a part PUT for an upload already aborted (S3Proxy's filesystem
   * backend does, and keeps it on disk; AWS S3 answers 404 NoSuchUpload). The suite then
   * sends no late part.
   */
  acceptsPartsAfterAbort?: boolean;
}

const timeout = 60_000;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const md5 = (bytes: Uint8Array) => createHash("md5").update(bytes).digest("hex");
const text = (s: string) => new TextEncoder().encode(s);
const bytesOf = async (response: Response) => new Uint8Array(await response.arrayBuffer());
const byKeyBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

async function rejectsWith(code: BlobStoreErrorCode, run: () => Promise<unknown>, what?: string): Promise<void> {
  await assert.rejects(run, (error: unknown) => {
    assert.ok(
      isBlobStoreError(error, code),
      `${what ?? "call"}: expected BlobStoreError ${code}, got ${String(error)}`,
    );
    return true;
  });
}

async function keysOf(store: BlobStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const item of store.list(prefix)) keys.push(item.key);
  return keys;
}

/** 16 MiB+ of random bytes would slow the suite; a repeated random block is as good for byte-identity. */
function payload(size: number): Uint8Array {
  const block = randomBytes(64 * 1024);
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += block.length) out.set(block.subarray(0, Math.min(block.length, size - at)), at);
  // Make each block differ so a part out of order would show.
  for (let at = 0; at < size; at += 4096) out[at] = (at / 4096) % 251;
  return out;
}

export function describeBlobStoreContract(name: string, open: () => Promise<BlobStoreUnderTest>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let subject: BlobStoreUnderTest;
    let store: BlobStore;
    // Every run under its own prefix, so runs on a shared bucket never meet.
    const run = `contract-${randomUUID()}/`;
    const uploads: { key: string; uploadId: string }[] = [];

    before(async () => {
      subject = await open();
      store = subject.store;
    });
    after(async () => {
      for (const upload of uploads) await store.abortMultipartUpload(upload.key, upload.uploadId);
      for (const key of await keysOf(store, run)) await store.delete(key);
      assert.deepEqual(await keysOf(store, run), [], "the run left nothing behind");
      await subject.close();
    });

    const createUpload = async (key: string, contentType?: string) => {
      const uploadId = await store.createMultipartUpload(key, { contentType });
      uploads.push({ key, uploadId });
      return uploadId;
    };

    it("puts, heads, gets and deletes a blob", { timeout }, async () => {
      const key = `${run}round/trip.wav`;
      const body = randomBytes(3000);
      const started = Date.now();
      const put = await store.put(key, body, { contentType: "audio/wav" });
      assert.deepEqual(put, { size: 3000, sha256: sha256(body), etag: md5(body) });

      const info = await store.head(key);
      assert.ok(info);
      assert.equal(info.key, key);
      assert.equal(info.size, 3000);
      assert.equal(info.contentType, "audio/wav");
      assert.equal(info.etag, md5(body));
      assert.equal(info.sha256, sha256(body));
      assert.ok(
        Math.abs(info.lastModified.getTime() - started) < 60_000,
        `lastModified ${info.lastModified.toISOString()}`,
      );

      const got = await store.get(key);
      assert.deepEqual(Buffer.from(got.body), body);
      assert.equal(got.size, 3000);
      assert.equal(got.contentType, "audio/wav");
      assert.equal(got.range, undefined);

      await store.delete(key);
      assert.equal(await store.head(key), undefined);
      await rejectsWith("not_found", () => store.get(key));
      await store.delete(key); // deleting what is gone is fine
    });

    it("stores an empty blob and defaults the content type", { timeout }, async () => {
      const key = `${run}empty`;
      await store.put(key, new Uint8Array());
      const got = await store.get(key);
      assert.equal(got.size, 0);
      assert.equal(got.body.byteLength, 0);
      assert.equal(got.contentType, "application/octet-stream");
    });

    it("replaces a blob on overwrite, and concurrent overwrites leave one of them whole", { timeout }, async () => {
      const key = `${run}overwrite`;
      await store.put(key, text("first version, longer than the second"), { contentType: "text/plain" });
      await store.put(key, text("second"), { contentType: "application/json" });
      const got = await store.get(key);
      assert.equal(new TextDecoder().decode(got.body), "second");
      assert.equal(got.size, 6);
      assert.equal(got.contentType, "application/json");

      const versions = Array.from({ length: 8 }, (_, i) => payload(10_000 + i * 1000));
      await Promise.all(versions.map((body) => store.put(key, body)));
      const last = await store.get(key);
      assert.ok(
        versions.some((body) => Buffer.from(body).equals(Buffer.from(last.body))),
        "the blob is one of the versions written",
      );
    });

    it("reads ranges: first bytes, middle, open-ended, clamped, suffix", { timeout }, async () => {
      const key = `${run}ranges.bin`;
      const body = Uint8Array.from({ length: 1000 }, (_, i) => i % 256);
      await store.put(key, body, { contentType: "audio/wav" });
      const cases = [
        { range: { start: 0, end: 9 }, start: 0, end: 9 },
        { range: { start: 100, end: 199 }, start: 100, end: 199 },
        { range: { start: 990 }, start: 990, end: 999 },
        { range: { start: 995, end: 5000 }, start: 995, end: 999 },
        { range: { start: 999, end: 999 }, start: 999, end: 999 },
        { range: { suffix: 10 }, start: 990, end: 999 },
        { range: { suffix: 5000 }, start: 0, end: 999 },
      ];
      for (const c of cases) {
        const got = await store.get(key, { range: c.range });
        assert.deepEqual(got.range, { start: c.start, end: c.end }, JSON.stringify(c.range));
        assert.deepEqual(
          Buffer.from(got.body),
          Buffer.from(body.subarray(c.start, c.end + 1)),
          JSON.stringify(c.range),
        );
        assert.equal(got.size, 1000, "size is the whole blob's");
        assert.equal(got.contentType, "audio/wav");
      }
      await rejectsWith("invalid_range", () => store.get(key, { range: { start: 1000 } }), "start at the end");
      await rejectsWith("invalid_argument", () => store.get(key, { range: { start: 10, end: 5 } }), "end before start");
      await rejectsWith("invalid_argument", () => store.get(key, { range: { suffix: 0 } }), "empty suffix");
      await rejectsWith("not_found", () => store.get(`${run}no-such`, { range: { start: 0, end: 1 } }));
    });

    it("lists a prefix in key byte order, across pages, prefix inside a segment too", { timeout }, async () => {
      const base = `${run}list/`;
      // No key is also a folder of another ("a" beside "a/b"): blob-store.ts says why.
      const names = [
        "a-b",
        "a/b",
        "a/c/d",
        "a0",
        "z",
        "\uff21-fullwidth",
        "\u{1f600}-astral",
        ...Array.from({ length: 22 }, (_, i) => `n/${String(i).padStart(3, "0")}`),
      ];
      await Promise.all(names.map((n, i) => store.put(`${base}${n}`, new Uint8Array(i + 1))));
      await store.put(`${run}list-other/x`, text("x"));
      await store.put(`${run}lis`, text("x"));

      const listed: { key: string; size: number; etag: string; lastModified: Date }[] = [];
      for await (const item of store.list(base)) listed.push(item);
      const expected = names.map((n) => `${base}${n}`).sort(byKeyBytes);
      assert.deepEqual(listed.map((item) => item.key).sort(byKeyBytes), expected, "every key once");
      // Java servers (S3Proxy) sort by UTF-16 units, which differs from UTF-8 byte order only
      // for characters beyond U+FFFF; the order is checked without those.
      const bmp = (key: string) => !/[\u{10000}-\u{10ffff}]/u.test(key);
      assert.deepEqual(listed.map((item) => item.key).filter(bmp), expected.filter(bmp), "in key byte order");
      for (const item of listed) {
        const i = names.indexOf(item.key.slice(base.length));
        assert.equal(item.size, i + 1, item.key);
        assert.equal(item.etag, md5(new Uint8Array(i + 1)));
        assert.ok(item.lastModified instanceof Date);
      }

      assert.deepEqual(await keysOf(store, `${base}a/`), [`${base}a/b`, `${base}a/c/d`]);
      assert.deepEqual(
        await keysOf(store, `${base}n/01`),
        [10, 11, 12, 13, 14, 15, 16, 17, 18, 19].map((i) => `${base}n/0${i}`),
      );
      assert.deepEqual(await keysOf(store, `${run}list-`), [`${run}list-other/x`]);
      const wide = await keysOf(store, `${run}lis`);
      assert.equal(wide.length, names.length + 2, "a prefix ending inside a segment matches every longer key");
      assert.deepEqual(await keysOf(store, `${run}nothing-here/`), []);
    });

    it("refuses a body whose sha256 does not match, and keeps what was there", { timeout }, async () => {
      const key = `${run}checksum`;
      const body = text("the real bytes");
      await store.put(key, body, { sha256: sha256(body) });
      await rejectsWith("checksum_mismatch", () => store.put(key, text("other bytes"), { sha256: sha256(body) }));
      assert.equal(new TextDecoder().decode((await store.get(key)).body), "the real bytes");
      await rejectsWith("checksum_mismatch", () =>
        store.put(`${run}checksum-new`, text("x"), { sha256: sha256(text("y")) }),
      );
      assert.equal(await store.head(`${run}checksum-new`), undefined, "a refused put stores nothing");
      await rejectsWith("invalid_argument", () => store.put(key, body, { sha256: "abc" }));
      await rejectsWith("invalid_argument", () => store.put(key, body, { sha256: sha256(body).toUpperCase() }));
    });

    it("answers NotFound for a missing key", { timeout }, async () => {
      const key = `${run}missing/key`;
      await rejectsWith("not_found", () => store.get(key));
      assert.equal(await store.head(key), undefined);
      await store.delete(key);
      const signed = await store.signDownload(key, { expiresInSeconds: 60 });
      const response = await fetch(signed.url, { headers: signed.headers });
      await response.arrayBuffer();
      assert.equal(response.status, 404);
    });

    it("refuses invalid keys with invalid_key, before touching the store", { timeout }, async () => {
      const bad = [
        "",
        "/leading",
        "trailing/",
        "double//slash",
        "..",
        ".",
        "../up",
        "a/../b",
        "a/./b",
        "new\nline",
        "nul\u0000",
        "del\u007f",
        "c1\u0085",
        "lone\ud800surrogate",
        "x".repeat(1025),
        "é".repeat(513), // 1026 bytes in UTF-8
      ];
      for (const key of bad) {
        const what = JSON.stringify(key.slice(0, 20));
        await rejectsWith("invalid_key", () => store.put(key, text("x")), `put ${what}`);
        await rejectsWith("invalid_key", () => store.get(key), `get ${what}`);
        await rejectsWith("invalid_key", () => store.head(key), `head ${what}`);
        await rejectsWith("invalid_key", () => store.delete(key), `delete ${what}`);
        await rejectsWith(
          "invalid_key",
          () => store.signDownload(key, { expiresInSeconds: 60 }),
          `signDownload ${what}`,
        );
        await rejectsWith("invalid_key", () => store.signUpload(key, { expiresInSeconds: 60 }), `signUpload ${what}`);
        await rejectsWith("invalid_key", () => store.createMultipartUpload(key), `createMultipartUpload ${what}`);
      }
      for (const prefix of ["/x", "a//b", "../x", "a/../"]) {
        await rejectsWith("invalid_key", async () => keysOf(store, prefix), `list ${prefix}`);
      }
      // The longest key there is: 1024 bytes in segments, with unusual but printable characters.
      const segment = "s".repeat(95);
      let longest = `${run}edge ~!$&'()*+,;=:@[]%é`;
      while (Buffer.byteLength(longest) + segment.length + 1 <= 1024) longest += `/${segment}`;
      longest += `/${"t".repeat(1024 - Buffer.byteLength(longest) - 1)}`;
      assert.equal(Buffer.byteLength(longest), 1024);
      await store.put(longest, text("edge"));
      assert.equal(new TextDecoder().decode((await store.get(longest)).body), "edge");
      const signed = await store.signDownload(longest, { expiresInSeconds: 60 });
      assert.equal(await (await fetch(signed.url, { headers: signed.headers })).text(), "edge");
      await store.delete(longest);
    });

    it("refuses expiries out of 1 s..7 days", { timeout }, async () => {
      for (const expiresInSeconds of [0, -1, 1.5, 7 * 24 * 3600 + 1]) {
        await rejectsWith("invalid_argument", () => store.signDownload(`${run}x`, { expiresInSeconds }));
      }
    });

    it("serves presigned GET (with Range) and PUT to plain fetch", { timeout }, async () => {
      const key = `${run}signed/recording.wav`;
      const body = payload(200_000);
      const upload = await store.signUpload(key, { expiresInSeconds: 300, contentType: "audio/wav" });
      assert.equal(upload.method, "PUT");
      assert.deepEqual(upload.headers, { "content-type": "audio/wav" });
      assert.ok(
        upload.expiresAt.getTime() > Date.now() + 290_000 && upload.expiresAt.getTime() <= Date.now() + 300_000,
      );
      const put = await fetch(upload.url, { method: "PUT", headers: upload.headers, body });
      assert.equal(put.status, 200, await put.text());
      assert.equal(put.headers.get("etag")?.replaceAll('"', ""), md5(body));
      const info = await store.head(key);
      assert.equal(info?.size, body.length);
      assert.equal(info?.contentType, "audio/wav");
      if (info?.sha256 !== undefined) assert.equal(info.sha256, sha256(body));

      const download = await store.signDownload(key, { expiresInSeconds: 300 });
      assert.equal(download.method, "GET");
      const whole = await fetch(download.url, { headers: download.headers });
      assert.equal(whole.status, 200);
      assert.equal(whole.headers.get("content-type"), "audio/wav");
      assert.deepEqual(await bytesOf(whole), body);
      const part = await fetch(download.url, { headers: { ...download.headers, range: "bytes=100-199" } });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get("content-range"), `bytes 100-199/${body.length}`);
      assert.deepEqual(await bytesOf(part), body.subarray(100, 200));
      const tail = await fetch(download.url, { headers: { ...download.headers, range: "bytes=-5" } });
      assert.equal(tail.status, 206);
      assert.deepEqual(await bytesOf(tail), body.subarray(body.length - 5));

      // Without a signed content type any upload goes; a signed one must be sent as signed.
      const plain = await store.signUpload(`${run}signed/plain`, { expiresInSeconds: 300 });
      assert.deepEqual(plain.headers, {});
      const plainPut = await fetch(plain.url, { method: "PUT", body: text("plain") });
      assert.equal(plainPut.status, 200, await plainPut.text());
      assert.equal(new TextDecoder().decode((await store.get(`${run}signed/plain`)).body), "plain");
      const other = await store.signUpload(`${run}signed/typed`, { expiresInSeconds: 300, contentType: "audio/wav" });
      const wrongType = await fetch(other.url, {
        method: "PUT",
        headers: { "content-type": "text/html" },
        body: "<x>",
      });
      await wrongType.arrayBuffer();
      assert.equal(wrongType.status, 403, "a content type other than the signed one is refused");
      assert.equal(await store.head(`${run}signed/typed`), undefined);
    });

    it("refuses presigned URLs once expired", { timeout }, async () => {
      const key = `${run}expiring`;
      await store.put(key, text("soon gone"));
      const download = await store.signDownload(key, { expiresInSeconds: 1 });
      const upload = await store.signUpload(`${run}expiring-put`, { expiresInSeconds: 1 });
      const part = await store.signUploadPart(`${run}expiring-part`, await createUpload(`${run}expiring-part`), 1, {
        expiresInSeconds: 1,
      });
      assert.ok(download.expiresAt.getTime() <= Date.now() + 1000);
      // Past expiresAt, plus a second for servers that compare whole seconds.
      await sleep(Math.max(download.expiresAt.getTime(), upload.expiresAt.getTime()) - Date.now() + 1100);
      const get = await fetch(download.url, { headers: download.headers });
      await get.arrayBuffer();
      assert.equal(get.status, 403, "expired GET");
      const put = await fetch(upload.url, { method: "PUT", headers: upload.headers, body: text("late") });
      await put.arrayBuffer();
      assert.equal(put.status, 403, "expired PUT");
      assert.equal(await store.head(`${run}expiring-put`), undefined);
      const partPut = await fetch(part.url, { method: "PUT", body: text("late") });
      await partPut.arrayBuffer();
      assert.equal(partPut.status, 403, "expired part PUT");
    });

    it("refuses a tampered URL", { timeout }, async () => {
      const key = `${run}tamper/mine`;
      const theirs = `${run}tamper/theirs`;
      await store.put(key, text("mine"));
      await store.put(theirs, text("theirs"));
      const download = await store.signDownload(key, { expiresInSeconds: 300 });
      const status = async (url: string, init?: RequestInit) => {
        const response = await fetch(url, init);
        await response.arrayBuffer();
        return response.status;
      };
      assert.equal(await status(download.url), 200);
      assert.equal(await status(download.url.replace("/tamper/mine", "/tamper/theirs")), 403, "another key");
      const url = new URL(download.url);
      const sigName = [...url.searchParams.keys()].find((k) => /^(sig|X-Amz-Signature)$/i.test(k));
      assert.ok(sigName, "the URL carries a signature parameter");
      const sig = url.searchParams.get(sigName) ?? "";
      url.searchParams.set(sigName, `${sig.slice(0, -2)}${sig.endsWith("00") ? "11" : "00"}`);
      assert.equal(await status(url.toString()), 403, "another signature");
      const longer = new URL(download.url);
      const expiresName = [...longer.searchParams.keys()].find((k) => /^(expires|X-Amz-Expires)$/i.test(k));
      assert.ok(expiresName);
      longer.searchParams.set(expiresName, String(Number(longer.searchParams.get(expiresName)) + 3600));
      assert.equal(await status(longer.toString()), 403, "a later expiry");
      const unsigned = new URL(download.url);
      unsigned.searchParams.delete(sigName);
      assert.equal(await status(unsigned.toString()), 403, "no signature");

      const upload = await store.signUpload(key, { expiresInSeconds: 300 });
      const redirected = upload.url.replace("/tamper/mine", "/tamper/theirs");
      assert.equal(await status(redirected, { method: "PUT", body: text("overwritten") }), 403, "PUT to another key");
      assert.equal(new TextDecoder().decode((await store.get(theirs)).body), "theirs");
      assert.notEqual(await status(download.url, { method: "PUT", body: text("x") }), 200, "a GET link does not PUT");
      assert.equal(new TextDecoder().decode((await store.get(key)).body), "mine");
    });

    it("uploads a multipart blob through presigned part URLs and reads it back byte-identical", {
      timeout,
    }, async () => {
      const key = `${run}multipart/long-call.wav`;
      const body = payload(2 * minPartSize + 123_457);
      const partBodies = [
        body.subarray(0, minPartSize),
        body.subarray(minPartSize, 2 * minPartSize),
        body.subarray(2 * minPartSize),
      ];
      const uploadId = await createUpload(key, "audio/wav");
      // Parts go up in parallel and out of order, as an agent may send them.
      const etags = await Promise.all(
        partBodies.map(async (part, i) => {
          const signed = await store.signUploadPart(key, uploadId, i + 1, { expiresInSeconds: 300 });
          assert.equal(signed.method, "PUT");
          await sleep((2 - i) * 20);
          const response = await fetch(signed.url, { method: "PUT", headers: signed.headers, body: part });
          assert.equal(response.status, 200, await response.text());
          const etag = response.headers.get("etag");
          assert.ok(etag, "a part PUT answers its ETag");
          assert.equal(etag.replaceAll('"', ""), md5(part), "the ETag is the part's MD5, as S3 makes it");
          return etag;
        }),
      );
      assert.equal(await store.head(key), undefined, "nothing shows before completion");

      const info = await store.completeMultipartUpload(
        key,
        uploadId,
        etags.map((etag, i) => ({ partNumber: i + 1, etag })),
      );
      assert.equal(info.size, body.length);
      assert.equal(info.contentType, "audio/wav");
      const partsMd5 = createHash("md5")
        .update(Buffer.concat(partBodies.map((p) => createHash("md5").update(p).digest())))
        .digest("hex");
      assert.equal(info.etag, `${partsMd5}-3`);
      if (info.sha256 !== undefined) assert.equal(info.sha256, sha256(body));
      const got = await store.get(key);
      assert.equal(got.body.byteLength, body.length);
      assert.equal(sha256(got.body), sha256(body), "byte-identical");
      const middle = await store.get(key, { range: { start: minPartSize - 10, end: minPartSize + 9 } });
      assert.deepEqual(Buffer.from(middle.body), Buffer.from(body.subarray(minPartSize - 10, minPartSize + 10)));
      await rejectsWith("not_found", () =>
        store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: etags[0] ?? "" }]),
      );
    });

    it("refuses a completion with wrong, missing, unordered or too small parts", { timeout }, async () => {
      const key = `${run}multipart/bad-parts`;
      const uploadId = await createUpload(key);
      const small = [text("small part one"), text("small part two")];
      const etags: string[] = [];
      for (const [i, part] of small.entries()) {
        const signed = await store.signUploadPart(key, uploadId, i + 1, { expiresInSeconds: 300 });
        const response = await fetch(signed.url, { method: "PUT", headers: signed.headers, body: part });
        assert.equal(response.status, 200, await response.text());
        etags.push(response.headers.get("etag") ?? "");
      }
      const parts = etags.map((etag, i) => ({ partNumber: i + 1, etag }));
      await rejectsWith("invalid_argument", () => store.completeMultipartUpload(key, uploadId, parts), "parts < 5 MiB");
      await rejectsWith(
        "invalid_argument",
        () => store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: md5(text("not it")) }]),
        "wrong ETag",
      );
      await rejectsWith(
        "invalid_argument",
        () => store.completeMultipartUpload(key, uploadId, [{ partNumber: 3, etag: etags[0] ?? "" }]),
        "a part never uploaded",
      );
      await rejectsWith(
        "invalid_argument",
        () => store.completeMultipartUpload(key, uploadId, [...parts].reverse()),
        "descending order",
      );
      await rejectsWith("invalid_argument", () => store.completeMultipartUpload(key, uploadId, []), "no parts");
      await rejectsWith("invalid_argument", () => store.signUploadPart(key, uploadId, 0, { expiresInSeconds: 60 }));
      await rejectsWith("invalid_argument", () =>
        store.signUploadPart(key, uploadId, 10_001, { expiresInSeconds: 60 }),
      );
      assert.equal(await store.head(key), undefined);

      // A single part may be small: it is the last one.
      const one = await store.completeMultipartUpload(key, uploadId, [parts[0] ?? { partNumber: 1, etag: "" }]);
      assert.equal(one.size, small[0]?.length);
      assert.equal(new TextDecoder().decode((await store.get(key)).body), "small part one");
    });

    it("aborts a multipart upload and leaves nothing", { timeout }, async () => {
      const key = `${run}multipart/aborted`;
      const uploadId = await createUpload(key);
      const signed = await store.signUploadPart(key, uploadId, 1, { expiresInSeconds: 300 });
      const part = payload(minPartSize);
      const response = await fetch(signed.url, { method: "PUT", headers: signed.headers, body: part });
      assert.equal(response.status, 200, await response.text());
      const etag = response.headers.get("etag") ?? "";

      await store.abortMultipartUpload(key, uploadId);
      assert.equal(await store.head(key), undefined);
      assert.deepEqual(await keysOf(store, `${run}multipart/aborted`), []);
      await rejectsWith("not_found", () => store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag }]));
      if (!subject.acceptsPartsAfterAbort) {
        const again = await store.signUploadPart(key, uploadId, 2, { expiresInSeconds: 300 });
        const late = await fetch(again.url, { method: "PUT", headers: again.headers, body: text("late part") });
        await late.arrayBuffer();
        assert.equal(late.status, 404, "a part of an aborted upload finds no upload");
      }
      await rejectsWith("not_found", () => store.completeMultipartUpload(key, uploadId, [{ partNumber: 2, etag }]));
      assert.equal(await store.head(key), undefined, "a late part never becomes a blob");
      await store.abortMultipartUpload(key, uploadId); // a second abort is a no-op
      await rejectsWith("not_found", () =>
        store.completeMultipartUpload(key, "no-such-upload", [{ partNumber: 1, etag }]),
      );
    });
  });
}
