import { createHash } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import {
  bareEtag,
  validateContentType,
  validateExpiry,
  validatePartNumber,
  validateParts,
  validateSha256,
  validateUploadId,
} from "./blob-arguments.js";
import { validateBlobKey, validateBlobPrefix } from "./blob-key.js";
import {
  type BlobContent,
  type BlobInfo,
  type BlobListing,
  type BlobStore,
  BlobStoreError,
  defaultContentType,
  type SignedRequest,
} from "./blob-store.js";
import { formatRangeHeader, parseContentRange, resolveByteRange, validateByteRange } from "./byte-range.js";

export interface S3BlobStoreOptions {
  /** An S3-compatible server (`http://127.0.0.1:59000`); unset: AWS S3 of `region`. Also the host of signed URLs. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Static credentials; unset: the SDK's default chain (env, profile, instance or pod role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `endpoint/bucket/key` instead of `bucket.endpoint/key`: what most S3-compatible servers need. */
  forcePathStyle?: boolean;
  /**
   * How a put's bytes are checked on the server: `sha256` sends `x-amz-checksum-sha256` (the
   * server recomputes it and refuses a mismatch); `md5` sends `Content-MD5`, for servers
   * that ignore flexible checksums. Either way the adapter hashes the body first and refuses
   * a caller's wrong `sha256` before sending anything. Default `sha256`.
   */
  checksum?: "sha256" | "md5";
  /** Keys per ListObjectsV2 page (1..1000); small values exercise paging in tests. */
  listPageSize?: number;
}

/** The SHA-256 the adapter records with a put, as user metadata: every S3-compatible server keeps it. */
const sha256Metadata = "sha256";

/**
 * The blob store on S3 or an S3-compatible server (@aws-sdk/client-s3). Signed URLs are
 * SigV4 presigned URLs made offline from the credentials; an upload signed with a content
 * type signs the `content-type` header, so the uploader must send exactly that one.
 * The SDK's default flexible checksums are off (`WHEN_REQUIRED`): they put a CRC32 of an
 * empty body into presigned PUT URLs and send trailers some S3-compatible servers refuse;
 * puts carry the checksum chosen by `checksum` instead.
 */
export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore {
  const client = new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle ?? false,
    credentials:
      options.accessKeyId && options.secretAccessKey
        ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
        : undefined,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const Bucket = options.bucket;
  const checksum = options.checksum ?? "sha256";
  const pageSize = options.listPageSize ?? 1000;

  /** Runs one S3 call, mapping the errors the port names; anything else is thrown as the SDK threw it. */
  async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toBlobStoreError(error, what);
    }
  }

  async function presign(
    method: SignedRequest["method"],
    command: GetObjectCommand | PutObjectCommand | UploadPartCommand,
    expiresInSeconds: number,
    headers: Record<string, string> = {},
  ): Promise<SignedRequest> {
    const signingDate = new Date();
    const signing = { expiresIn: expiresInSeconds, signingDate, signableHeaders: new Set(Object.keys(headers)) };
    // One call per command type: getSignedUrl's generics do not take a union.
    const url =
      command instanceof GetObjectCommand
        ? await getSignedUrl(client, command, signing)
        : command instanceof PutObjectCommand
          ? await getSignedUrl(client, command, signing)
          : await getSignedUrl(client, command, signing);
    return {
      method,
      url,
      headers,
      // SigV4 counts from the signing time in whole seconds.
      expiresAt: new Date(Math.floor(signingDate.getTime() / 1000) * 1000 + expiresInSeconds * 1000),
    };
  }

  function infoOf(key: string, out: ObjectHeaders): BlobInfo {
    const info: BlobInfo = {
      key,
      size: out.ContentLength ?? 0,
      contentType: out.ContentType ?? defaultContentType,
      etag: bareEtag(out.ETag ?? ""),
      lastModified: out.LastModified ?? new Date(0),
    };
    const sha256 = sha256Of(out);
    if (sha256) info.sha256 = sha256;
    return info;
  }

  async function head(key: string): Promise<BlobInfo | undefined> {
    validateBlobKey(key);
    try {
      const out = await client.send(new HeadObjectCommand({ Bucket, Key: key, ChecksumMode: "ENABLED" }));
      return infoOf(key, out);
    } catch (error) {
      const mapped = toBlobStoreError(error, `head ${key}`);
      if (mapped instanceof BlobStoreError && mapped.code === "not_found") return undefined;
      throw mapped;
    }
  }

  async function* list(prefix: string): AsyncGenerator<BlobListing> {
    let ContinuationToken: string | undefined;
    do {
      const page = await call(`list ${prefix}`, () =>
        client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, MaxKeys: pageSize, ContinuationToken })),
      );
      for (const item of page.Contents ?? []) {
        if (item.Key === undefined) continue;
        yield {
          key: item.Key,
          size: item.Size ?? 0,
          etag: bareEtag(item.ETag ?? ""),
          lastModified: item.LastModified ?? new Date(0),
        };
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  return {
    async put(key, body, putOptions = {}) {
      validateBlobKey(key);
      validateContentType(putOptions.contentType);
      validateSha256(putOptions.sha256);
      const sha256 = createHash("sha256").update(body).digest();
      if (putOptions.sha256 !== undefined && putOptions.sha256 !== sha256.toString("hex")) {
        throw new BlobStoreError("checksum_mismatch", `the body of ${key} does not match the SHA-256 given`);
      }
      const out = await call(`put ${key}`, () =>
        client.send(
          new PutObjectCommand({
            Bucket,
            Key: key,
            Body: body,
            ContentLength: body.byteLength,
            ContentType: putOptions.contentType ?? defaultContentType,
            Metadata: { [sha256Metadata]: sha256.toString("hex") },
            ...(checksum === "sha256"
              ? { ChecksumSHA256: sha256.toString("base64") }
              : { ContentMD5: createHash("md5").update(body).digest("base64") }),
          }),
        ),
      );
      return { size: body.byteLength, sha256: sha256.toString("hex"), etag: bareEtag(out.ETag ?? "") };
    },

    async get(key, getOptions = {}): Promise<BlobContent> {
      validateBlobKey(key);
      const asked = getOptions.range;
      if (asked) validateByteRange(asked);
      const out = await call(`get ${key}`, () =>
        client.send(new GetObjectCommand({ Bucket, Key: key, Range: asked ? formatRangeHeader(asked) : undefined })),
      );
      let body = (await out.Body?.transformToByteArray()) ?? new Uint8Array();
      const served = parseContentRange(out.ContentRange);
      const info = infoOf(key, { ...out, ContentLength: served?.size ?? out.ContentLength });
      if (!asked) return { ...info, body };
      if (served) return { ...info, body, range: { start: served.start, end: served.end } };
      // The server sent the whole blob despite the Range (allowed by HTTP): cut it here.
      const range = resolveByteRange(asked, body.byteLength);
      body = body.subarray(range.start, range.end + 1);
      return { ...info, body, range };
    },

    head,

    async delete(key) {
      validateBlobKey(key);
      await call(`delete ${key}`, () => client.send(new DeleteObjectCommand({ Bucket, Key: key })));
    },

    list(prefix) {
      validateBlobPrefix(prefix);
      return list(prefix);
    },

    async signDownload(key, signOptions) {
      validateBlobKey(key);
      validateExpiry(signOptions.expiresInSeconds);
      return presign("GET", new GetObjectCommand({ Bucket, Key: key }), signOptions.expiresInSeconds);
    },

    async signUpload(key, signOptions) {
      validateBlobKey(key);
      validateExpiry(signOptions.expiresInSeconds);
      validateContentType(signOptions.contentType);
      const { contentType } = signOptions;
      return presign(
        "PUT",
        new PutObjectCommand({ Bucket, Key: key, ContentType: contentType }),
        signOptions.expiresInSeconds,
        contentType === undefined ? {} : { "content-type": contentType },
      );
    },

    async createMultipartUpload(key, uploadOptions = {}) {
      validateBlobKey(key);
      validateContentType(uploadOptions.contentType);
      const out = await call(`create upload ${key}`, () =>
        client.send(
          new CreateMultipartUploadCommand({
            Bucket,
            Key: key,
            ContentType: uploadOptions.contentType ?? defaultContentType,
          }),
        ),
      );
      if (!out.UploadId) throw new BlobStoreError("unavailable", `the server gave no upload id for ${key}`);
      return out.UploadId;
    },

    async signUploadPart(key, uploadId, partNumber, signOptions) {
      validateBlobKey(key);
      validateUploadId(uploadId);
      validatePartNumber(partNumber);
      validateExpiry(signOptions.expiresInSeconds);
      return presign(
        "PUT",
        new UploadPartCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber: partNumber }),
        signOptions.expiresInSeconds,
      );
    },

    async completeMultipartUpload(key, uploadId, parts) {
      validateBlobKey(key);
      validateUploadId(uploadId);
      validateParts(parts);
      await call(`complete upload ${key}`, () =>
        client.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: {
              Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: `"${bareEtag(part.etag)}"` })),
            },
          }),
        ),
      );
      const info = await head(key);
      if (!info) throw new BlobStoreError("not_found", `${key} is missing right after its upload completed`);
      return info;
    },

    async abortMultipartUpload(key, uploadId) {
      validateBlobKey(key);
      try {
        validateUploadId(uploadId);
        await call(`abort upload ${key}`, () =>
          client.send(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId })),
        );
      } catch (error) {
        if (!(error instanceof BlobStoreError && error.code === "not_found")) throw error;
      }
    },

    async close() {
      client.destroy();
    },
  };
}

/** What HeadObject and GetObject both answer about an object. */
type ObjectHeaders = Pick<
  HeadObjectCommandOutput,
  "ContentLength" | "ContentType" | "ETag" | "LastModified" | "ChecksumSHA256" | "ChecksumType" | "Metadata"
>;

/** The full-object SHA-256: the server's own checksum when it kept one, else the one the adapter recorded. */
function sha256Of(out: ObjectHeaders): string | undefined {
  const own = out.ChecksumSHA256;
  if (own && !own.includes("-") && out.ChecksumType !== "COMPOSITE") return Buffer.from(own, "base64").toString("hex");
  const recorded = out.Metadata?.[sha256Metadata];
  return recorded && /^[0-9a-f]{64}$/.test(recorded) ? recorded : undefined;
}

const notFound = new Set(["NoSuchKey", "NotFound", "NoSuchUpload"]);
const badChecksum = new Set(["BadDigest", "InvalidDigest", "XAmzContentChecksumMismatch", "XAmzContentSHA256Mismatch"]);
const badParts = new Set(["InvalidPart", "InvalidPartOrder", "EntityTooSmall"]);
const unreachable = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "TimeoutError",
]);

/** Classifies an SDK error once, here; keeps it as `cause`. */
function toBlobStoreError(error: unknown, what: string): unknown {
  if (error instanceof BlobStoreError) return error;
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  const name = e?.name ?? "";
  const status = e?.$metadata?.httpStatusCode;
  const fail = (code: BlobStoreError["code"], why: string) =>
    new BlobStoreError(code, `${what}: ${why} (${name || status})`, { cause: error });
  if (notFound.has(name) || status === 404) return fail("not_found", "not found");
  if (name === "InvalidRange" || status === 416) return fail("invalid_range", "range not satisfiable");
  if (badChecksum.has(name)) return fail("checksum_mismatch", "the server refused the checksum");
  if (badParts.has(name)) return fail("invalid_argument", "the server refused the parts");
  if (unreachable.has(name) || unreachable.has(e?.code ?? "") || (status !== undefined && status >= 500)) {
    return fail("unavailable", "S3 did not answer");
  }
  return error;
}
