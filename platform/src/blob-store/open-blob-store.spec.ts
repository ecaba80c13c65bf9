import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { ConfigError } from "../config.js";
import { isBlobStoreError } from "./blob-store.js";
import { openBlobStore, parseBlobStoreConfig } from "./open-blob-store.js";

it("defaults to the local store, with S3 settings parsed but unused", () => {
  const config = parseBlobStoreConfig({});
  assert.equal(config.S3_BUCKET, undefined);
  assert.equal(config.S3_REGION, "us-east-1");
  assert.equal(config.S3_FORCE_PATH_STYLE, false);
  assert.equal(parseBlobStoreConfig({ S3_BUCKET: "" }).S3_BUCKET, undefined, "empty is unset");
});

it("parses S3_FORCE_PATH_STYLE as a boolean and refuses half credentials", () => {
  assert.equal(parseBlobStoreConfig({ S3_FORCE_PATH_STYLE: "true" }).S3_FORCE_PATH_STYLE, true);
  assert.equal(parseBlobStoreConfig({ S3_FORCE_PATH_STYLE: "1" }).S3_FORCE_PATH_STYLE, true);
  assert.equal(parseBlobStoreConfig({ S3_FORCE_PATH_STYLE: "false" }).S3_FORCE_PATH_STYLE, false);
  assert.throws(() => parseBlobStoreConfig({ S3_FORCE_PATH_STYLE: "yes" }), /S3_FORCE_PATH_STYLE/);
  assert.throws(
    () => parseBlobStoreConfig({ S3_ACCESS_KEY_ID: "id" }),
    (error) => error instanceof ConfigError && /S3_SECRET_ACCESS_KEY/.test(error.message),
  );
});

it("opens a local store when S3_BUCKET is unset, signing URLs under BLOB_PUBLIC_URL", async () => {
  const directory = mkdtempSync(join(tmpdir(), "open-blob-store-"));
  try {
    const config = parseBlobStoreConfig({ BLOB_PUBLIC_URL: "https://calls.example/api" });
    const { store, local } = await openBlobStore(config, { directory, baseUrl: "http://127.0.0.1:3000" });
    assert.equal(local, store);
    const signed = await store.signDownload("t/a.wav", { expiresInSeconds: 60 });
    assert.match(signed.url, /^https:\/\/calls\.example\/api\/blobs\/t\/a\.wav\?op=get&/);
    await store.close();
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

it("opens S3 when S3_BUCKET is set; a server that does not answer is unavailable", { timeout: 20_000 }, async () => {
  // A port that was free a moment ago: connections to it are refused.
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const config = parseBlobStoreConfig({
    S3_BUCKET: "b",
    S3_ENDPOINT: `http://127.0.0.1:${port}`,
    S3_ACCESS_KEY_ID: "id",
    S3_SECRET_ACCESS_KEY: "secret",
    S3_FORCE_PATH_STYLE: "true",
  });
  const { store, local } = await openBlobStore(config, { directory: "/nonexistent", baseUrl: "http://unused" });
  assert.equal(local, undefined);
  const signed = await store.signDownload("t/a.wav", { expiresInSeconds: 60 });
  assert.match(signed.url, new RegExp(`^http://127\\.0\\.0\\.1:${port}/b/t/a\\.wav\\?`), "path style");
  await assert.rejects(store.head("t/a.wav"), (error) => isBlobStoreError(error, "unavailable"));
  await store.close();
});
