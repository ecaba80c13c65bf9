// Probes an S3-compatible server for what Callmesh's blob store uses: bucket ops, checksums
// (Content-MD5, x-amz-checksum-sha256, the SDK's default CRC32 trailer), multipart upload,
// presigned GET/PUT (SigV4 query auth) and Range reads. Prints one line per check.
// Usage: env $(npm run -s servers:env) npx tsx scripts/servers/s3-probe.ts
import { createHash, randomBytes } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set (run: env $(npm run -s servers:env) …)`);
  return value;
};
const endpoint = env("S3_ENDPOINT");
const bucket = env("S3_BUCKET", "callmesh");
const base = {
  endpoint,
  region: env("S3_REGION", "us-east-1"),
  forcePathStyle: env("S3_FORCE_PATH_STYLE", "true") === "true",
  credentials: { accessKeyId: env("S3_ACCESS_KEY_ID"), secretAccessKey: env("S3_SECRET_ACCESS_KEY") },
};
// WHEN_REQUIRED: no checksum unless the caller asks; the SDK's default (WHEN_SUPPORTED) adds a CRC32.
const s3 = new S3Client({
  ...base,
  requestChecksumCalculation: "WHEN_REQUIRED",
  responseChecksumValidation: "WHEN_REQUIRED",
});
const s3Default = new S3Client(base);

let failures = 0;
async function check(name: string, run: () => Promise<string>): Promise<void> {
  try {
    console.log(`ok    ${name}: ${await run()}`);
  } catch (error) {
    failures++;
    const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    console.log(`FAIL  ${name}: ${e.name ?? ""} ${e.$metadata?.httpStatusCode ?? ""} ${e.message ?? String(error)}`);
  }
}
async function rejects(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
    const why = `${e.name ?? e.Code} ${e.$metadata?.httpStatusCode ?? ""}`;
    // 501 means the server does not implement the header at all, not that it checked it.
    if (e.$metadata?.httpStatusCode === 501) throw new Error(`not implemented (${why})`);
    if (e.$metadata?.httpStatusCode === undefined) throw error;
    return `rejected (${why})`;
  }
  throw new Error("accepted a wrong checksum");
}
const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("base64");
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("base64");
const body = async (out: { Body?: { transformToByteArray(): Promise<Uint8Array> } }) =>
  Buffer.from((await out.Body?.transformToByteArray()) ?? []);

const prefix = `probe-${Date.now()}/`;
const small = randomBytes(1000);

await check("head or create bucket", async () => {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return "exists";
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    return "created";
  }
});
await check("put without checksum, get back", async () => {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}plain`, Body: small }));
  const got = await body(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}plain` })));
  if (!got.equals(small)) throw new Error("bytes differ");
  return "same bytes";
});
await check("put with the SDK's default checksum (CRC32, aws-chunked trailer)", async () => {
  const out = await s3Default.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}crc`, Body: small }));
  const got = await body(await s3Default.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}crc` })));
  if (!got.equals(small)) throw new Error(`bytes differ (${got.length} bytes back)`);
  return `stored, crc32 echoed: ${out.ChecksumCRC32 ?? "no"}`;
});
await check("Content-MD5 right", async () => {
  const out = await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: `${prefix}md5`, Body: small, ContentMD5: md5(small) }),
  );
  return `etag ${out.ETag}`;
});
await check("Content-MD5 wrong", () =>
  rejects(() =>
    s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: `${prefix}md5bad`, Body: small, ContentMD5: md5(randomBytes(8)) }),
    ),
  ),
);
await check("x-amz-checksum-sha256 right", async () => {
  const out = await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: `${prefix}sha`, Body: small, ChecksumSHA256: sha256(small) }),
  );
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}sha`, ChecksumMode: "ENABLED" }));
  return `accepted; echoed on put: ${out.ChecksumSHA256 ? "yes" : "no"}; on head: ${head.ChecksumSHA256 ? "yes" : "no"}`;
});
await check("x-amz-checksum-sha256 wrong", () =>
  rejects(() =>
    s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `${prefix}shabad`,
        Body: small,
        ChecksumSHA256: sha256(randomBytes(8)),
      }),
    ),
  ),
);
await check("Range reads", async () => {
  const mid = await body(
    await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}plain`, Range: "bytes=10-19" })),
  );
  const tail = await body(
    await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}plain`, Range: "bytes=-5" })),
  );
  const open = await body(
    await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}plain`, Range: "bytes=990-" })),
  );
  if (!mid.equals(small.subarray(10, 20))) throw new Error("bytes=10-19 wrong");
  if (!tail.equals(small.subarray(995))) throw new Error("bytes=-5 wrong");
  if (!open.equals(small.subarray(990))) throw new Error("bytes=990- wrong");
  return "bytes=10-19, bytes=-5, bytes=990- right";
});
await check("multipart upload (2 parts: 5 MiB + 1 KiB), Content-MD5 per part", async () => {
  const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1024)];
  const key = `${prefix}multi`;
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  try {
    const done = [];
    for (const [i, part] of parts.entries()) {
      const out = await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          PartNumber: i + 1,
          Body: part,
          ContentMD5: md5(part),
        }),
      );
      done.push({ PartNumber: i + 1, ETag: out.ETag });
    }
    const out = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: done } }),
    );
    const got = await body(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
    if (!got.equals(Buffer.concat(parts))) throw new Error("bytes differ");
    return `etag ${out.ETag}`;
  } catch (error) {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => {});
    throw error;
  }
});
await check("multipart upload with x-amz-checksum-sha256 per part", async () => {
  const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1024)];
  const key = `${prefix}multisha`;
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: "SHA256" }),
  );
  try {
    const done = [];
    for (const [i, part] of parts.entries()) {
      const out = await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          PartNumber: i + 1,
          Body: part,
          ChecksumSHA256: sha256(part),
        }),
      );
      done.push({ PartNumber: i + 1, ETag: out.ETag, ChecksumSHA256: out.ChecksumSHA256 ?? sha256(part) });
    }
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: done } }),
    );
    const got = await body(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
    if (!got.equals(Buffer.concat(parts))) throw new Error("bytes differ");
    return "completed, same bytes";
  } catch (error) {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => {});
    throw error;
  }
});
await check("presigned PUT then presigned GET (SigV4 query auth)", async () => {
  const key = `${prefix}presigned`;
  const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 60 });
  const put = await fetch(putUrl, { method: "PUT", body: small });
  if (!put.ok) throw new Error(`PUT ${put.status} ${await put.text()}`);
  const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 60 });
  if (!getUrl.includes("X-Amz-Signature=")) throw new Error("not a SigV4 query-signed URL");
  const get = await fetch(getUrl);
  if (!get.ok) throw new Error(`GET ${get.status}`);
  if (!Buffer.from(await get.arrayBuffer()).equals(small)) throw new Error("bytes differ");
  const ranged = await fetch(getUrl, { headers: { Range: "bytes=0-9" } });
  if (ranged.status !== 206 || !Buffer.from(await ranged.arrayBuffer()).equals(small.subarray(0, 10)))
    throw new Error(`ranged presigned GET gave ${ranged.status}`);
  return "PUT 200, GET 200 same bytes, ranged GET 206";
});
await check("presigned GET with a tampered signature is refused", async () => {
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: `${prefix}plain` }), {
    expiresIn: 60,
  });
  const bad = url.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === "0" ? "1" : "0"}`);
  const res = await fetch(bad);
  if (res.ok) throw new Error("served a tampered URL");
  return `refused (${res.status})`;
});
await check("wrong secret is refused", () =>
  rejects(() =>
    new S3Client({
      ...base,
      credentials: { accessKeyId: base.credentials.accessKeyId, secretAccessKey: "wrong" },
    }).send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}plain` })),
  ),
);
for (const key of ["plain", "crc", "md5", "sha", "multi", "multisha", "presigned"]) {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}${key}` })).catch(() => {});
}
console.log(failures === 0 ? "all checks passed" : `${failures} check(s) failed`);
process.exitCode = failures === 0 ? 0 : 1;
