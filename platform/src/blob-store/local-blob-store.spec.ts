import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { describeBlobStoreContract } from "./blob-store.contract.js";
import { isBlobStoreError } from "./blob-store.js";
import { createLocalBlobStore, type LocalBlobStore } from "./local-blob-store.js";
import { createSignedBlobHandler } from "./signed-blob-handler.js";

/** A local store in a fresh directory, its signed URLs served by a tiny server on 127.0.0.1. */
async function openLocal(): Promise<{
  store: LocalBlobStore;
  directory: string;
  baseUrl: string;
  close(): Promise<void>;
}> {
  const directory = mkdtempSync(join(tmpdir(), "blob-store-"));
  let handle: ReturnType<typeof createSignedBlobHandler> = () => false;
  const server = http.createServer((req, res) => {
    if (handle(req, res)) return;
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not a blob URL\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const store = await createLocalBlobStore({ directory, baseUrl, secret: randomBytes(32) });
  handle = createSignedBlobHandler(store);
  return {
    store,
    directory,
    baseUrl,
    async close() {
      await store.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

describeBlobStoreContract("local directory", openLocal);

describe("local blob store specifics", () => {
  let local: Awaited<ReturnType<typeof openLocal>>;
  before(async () => {
    local = await openLocal();
  });
  after(() => local.close());

  it("leaves the handler's other paths to the server", { timeout: 10_000 }, async () => {
    const response = await fetch(`${local.baseUrl}/healthz`);
    assert.equal(response.status, 404);
    assert.equal(await response.text(), "not a blob URL\n");
  });

  it("answers 405 to a method the link is not for, 416 to a range past the end, and HEAD", {
    timeout: 10_000,
  }, async () => {
    await local.store.put("specifics/a.wav", new Uint8Array(10), { contentType: "audio/wav" });
    const { url } = await local.store.signDownload("specifics/a.wav", { expiresInSeconds: 60 });
    const put = await fetch(url, { method: "PUT", body: "x" });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get("allow"), "GET, HEAD");
    const past = await fetch(url, { headers: { range: "bytes=10-" } });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get("content-range"), "bytes */10");
    const head = await fetch(url, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), "10");
    assert.equal(head.headers.get("accept-ranges"), "bytes");
    const several = await fetch(url, { headers: { range: "bytes=0-1,4-5" } });
    assert.equal(several.status, 200, "several ranges: the whole blob, as RFC 9110 allows");
    assert.equal((await several.arrayBuffer()).byteLength, 10);
  });

  it("refuses a link signed with another secret", { timeout: 10_000 }, async () => {
    const other = await createLocalBlobStore({
      directory: local.directory,
      baseUrl: local.baseUrl,
      secret: randomBytes(32),
    });
    await local.store.put("specifics/secret", new Uint8Array(1));
    const { url } = await other.signDownload("specifics/secret", { expiresInSeconds: 60 });
    const response = await fetch(url);
    assert.equal(response.status, 403);
    assert.equal(await response.text(), "signature invalid\n");
    await other.close();
  });

  it("keeps keys a and a/b apart, and removes emptied directories", { timeout: 10_000 }, async () => {
    await local.store.put("tree/a", new Uint8Array([1]));
    await local.store.put("tree/a/b", new Uint8Array([2]));
    assert.deepEqual((await local.store.get("tree/a")).body, new Uint8Array([1]));
    assert.deepEqual((await local.store.get("tree/a/b")).body, new Uint8Array([2]));
    await local.store.delete("tree/a/b");
    await local.store.delete("tree/a");
    assert.deepEqual(readdirSync(join(local.directory, "objects")).includes("tree.d"), false);
  });

  it("refuses key segments longer than the file system can name", { timeout: 10_000 }, async () => {
    await assert.rejects(local.store.put(`long/${"x".repeat(251)}`, new Uint8Array(1)), (error) =>
      isBlobStoreError(error, "invalid_key"),
    );
    await local.store.put(`long/${"x".repeat(250)}`, new Uint8Array(1));
  });

  it("stores nothing when a PUT's body breaks off", { timeout: 10_000 }, async () => {
    const { url } = await local.store.signUpload("specifics/broken", { expiresInSeconds: 60 });
    await new Promise<void>((resolve) => {
      const req = http.request(url, { method: "PUT", headers: { "content-length": "100000" } });
      req.on("error", () => resolve());
      req.write(Buffer.alloc(1000), () => {
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 50);
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await local.store.head("specifics/broken"), undefined);
    assert.deepEqual(readdirSync(join(local.directory, "tmp")), []);
  });
});
