import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { it } from "node:test";
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { describeBlobStoreContract } from "./blob-store.contract.js";
import { parseBlobStoreConfig, s3Options } from "./open-blob-store.js";
import { createS3BlobStore } from "./s3-blob-store.js";

const config = parseBlobStoreConfig();
const bucket = config.S3_BUCKET;
if (!bucket) {
  throw new Error(
    "S3_BUCKET is not set: run the tests with `npm test` (it starts the S3 test server), or `npm run servers:start` and then `env $(npm run -s servers:env) node --import tsx --test platform/src/blob-store/s3-blob-store.spec.ts`",
  );
}

describeBlobStoreContract(`S3 at ${config.S3_ENDPOINT ?? "AWS"}`, async () => {
  const store = createS3BlobStore({
    ...s3Options(config, bucket),
    // Small pages so that listing 30 keys crosses several.
    listPageSize: 7,
  });
  // Against AWS itself (no endpoint) every check is strict; the S3-compatible test server
  // (S3Proxy, filesystem backend) takes part PUTs after an abort.
  return { store, close: () => store.close(), acceptsPartsAfterAbort: config.S3_ENDPOINT !== undefined };
});

it("puts with Content-MD5 instead, for servers without flexible checksums", { timeout: 20_000 }, async () => {
  const store = createS3BlobStore({
    ...s3Options(config, bucket),
    checksum: "md5",
  });
  const key = `md5-mode-${randomUUID()}/a`;
  const body = new TextEncoder().encode("md5 mode");
  const sha256 = createHash("sha256").update(body).digest("hex");
  try {
    await store.put(key, body, { sha256 });
    assert.equal((await store.head(key))?.sha256, sha256, "recorded in metadata");
    assert.deepEqual(Buffer.from((await store.get(key)).body), Buffer.from(body));
  } finally {
    await store.delete(key);
    await store.close();
  }
});

// What the adapter counts on the server to do, checked below the port.
it("the server verifies x-amz-checksum-sha256 and Content-MD5, refusing a mismatch", { timeout: 20_000 }, async () => {
  const client = new S3Client({
    region: config.S3_REGION,
    endpoint: config.S3_ENDPOINT,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    requestChecksumCalculation: "WHEN_REQUIRED",
    credentials:
      config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY
        ? { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY }
        : undefined,
  });
  const Key = `checksum-probe-${randomUUID()}`;
  const Body = new TextEncoder().encode("what was sent");
  const other = createHash("sha256").update("something else");
  try {
    await assert.rejects(
      client.send(new PutObjectCommand({ Bucket: bucket, Key, Body, ChecksumSHA256: other.digest("base64") })),
      (error: { name?: string }) => error.name === "BadDigest" || error.name === "XAmzContentChecksumMismatch",
    );
    const wrongMd5 = createHash("md5").update("something else").digest("base64");
    await assert.rejects(
      client.send(new PutObjectCommand({ Bucket: bucket, Key, Body, ContentMD5: wrongMd5 })),
      (error: { name?: string }) => error.name === "BadDigest" || error.name === "InvalidDigest",
    );
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key })).catch((error) => error);
    assert.equal(head.$metadata?.httpStatusCode, 404, "nothing was stored");
  } finally {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
    client.destroy();
  }
});
