/**
 * The blob store port: named byte objects (call recordings first) that services keep and
 * that agents and browsers reach through short-lived signed URLs, never with credentials.
 * Adapters: a local directory with HMAC-signed URLs (embedded default) and S3 (any
 * S3-compatible server). Every adapter passes `blob-store.contract.ts`.
 *
 * Semantics every adapter keeps:
 * - Keys are chosen by the server and checked by `validateBlobKey` (blob-key.ts) before
 *   anything else: a bad key throws `BlobStoreError("invalid_key")`. Keys form a tree: never
 *   store a key that is also a folder of another (`a` beside `a/b`). S3 allows it, but
 *   filesystem-backed S3 servers (S3Proxy's filesystem backend, which the tests use) fail
 *   with a 500; the local store copes.
 * - A blob is whole or absent: `put` and `completeMultipartUpload` replace a blob
 *   atomically; readers see the old bytes or the new ones, never a mix.
 * - `get` of a missing key throws `BlobStoreError("not_found")`; `head` answers undefined;
 *   `delete` of a missing key is a no-op, as is aborting an unknown upload.
 * - `list(prefix)` yields every blob whose key starts with `prefix`, in byte order of the
 *   UTF-8 keys, fetching pages as it goes. (S3Proxy sorts by UTF-16 units instead, which
 *   differs only for characters beyond U+FFFF.)
 * - Signed URLs name one key and one operation and stop working after `expiresInSeconds`
 *   (1 s to 7 days: S3's limit). The holder sends `headers` with the request.
 */
export interface BlobStore {
  /** Stores `body` under `key`, replacing what was there. A `sha256` that does not match `body` is refused. */
  put(key: string, body: Uint8Array, options?: PutBlobOptions): Promise<PutBlobResult>;
  /** Reads a blob, or the bytes of `range` of it. */
  get(key: string, options?: { range?: ByteRange }): Promise<BlobContent>;
  head(key: string): Promise<BlobInfo | undefined>;
  delete(key: string): Promise<void>;
  list(prefix: string): AsyncIterable<BlobListing>;

  /** A GET of the whole blob or of a `Range:` of it (answers 206), for a browser or an agent. */
  signDownload(key: string, options: { expiresInSeconds: number }): Promise<SignedRequest>;
  /** One PUT of the whole body. With `contentType` the uploader must send that Content-Type (it is in `headers`). */
  signUpload(key: string, options: { expiresInSeconds: number; contentType?: string }): Promise<SignedRequest>;

  /**
   * Multipart upload, for files too large for one PUT: the server creates the upload and
   * signs one PUT URL per part; the uploader PUTs the parts (any order, in parallel) and
   * hands back each response's `ETag`; the server completes with the parts in order.
   * Parts are numbered 1..10000; every part but the last must be at least 5 MiB
   * (`minPartSize`), as S3 requires. The blob appears only when completed.
   */
  createMultipartUpload(key: string, options?: { contentType?: string }): Promise<string>;
  signUploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    options: { expiresInSeconds: number },
  ): Promise<SignedRequest>;
  /** Joins `parts` (ascending part numbers, with the ETags the part PUTs answered) into the blob. */
  completeMultipartUpload(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<BlobInfo>;
  /** Drops the upload and its parts. */
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;

  /** Releases connections. */
  close(): Promise<void>;
}

export interface PutBlobOptions {
  /** Stored and served back as Content-Type; default `application/octet-stream`. */
  contentType?: string;
  /** Lowercase hex SHA-256 of `body` as the caller computed it; the store refuses a mismatch (`checksum_mismatch`). */
  sha256?: string;
}

export interface PutBlobResult {
  size: number;
  /** Lowercase hex SHA-256 of what was stored. */
  sha256: string;
  etag: string;
}

/** What the store knows about a blob. */
export interface BlobInfo {
  key: string;
  size: number;
  contentType: string;
  /** As S3 makes it, without quotes: MD5 hex of the bytes for one PUT, `md5(part md5s)-N` for N parts. */
  etag: string;
  lastModified: Date;
  /** Lowercase hex SHA-256 of the whole blob, when the store computed or verified it. */
  sha256?: string;
}

export interface BlobListing {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
}

export interface BlobContent extends BlobInfo {
  /** The whole blob, or the bytes of `range`. */
  body: Uint8Array;
  /** The bytes served (inclusive), when a range was asked; `size` stays the size of the whole blob. */
  range?: { start: number; end: number };
}

/**
 * Bytes of a blob, as HTTP ranges count them: `{ start, end }` from `start` to `end`
 * inclusive (`end` past the last byte, or absent, means to the last byte); `{ suffix }` the
 * last `suffix` bytes (all of them when the blob is shorter). A range that starts at or
 * after the end of the blob throws `invalid_range`.
 */
export type ByteRange = { start: number; end?: number } | { suffix: number };

/** A request an outside party makes on its own: `method` to `url` with `headers`, until `expiresAt`. */
export interface SignedRequest {
  method: "GET" | "PUT";
  url: string;
  headers: Record<string, string>;
  expiresAt: Date;
}

export interface UploadedPart {
  partNumber: number;
  /** The ETag header the part's PUT answered (quotes optional). */
  etag: string;
}

/** S3's smallest part, except the last one. */
export const minPartSize = 5 * 1024 * 1024;
export const maxPartNumber = 10_000;
/** SigV4 presigned URLs live at most 7 days; the local store keeps the same bound. */
export const maxExpiresInSeconds = 7 * 24 * 3600;
export const defaultContentType = "application/octet-stream";

export type BlobStoreErrorCode =
  /** No blob under the key, or no such multipart upload. */
  | "not_found"
  /** The key breaks the rules of blob-key.ts. */
  | "invalid_key"
  /** Another argument is wrong: expiry, part number, parts of a completion, checksum format. */
  | "invalid_argument"
  /** The range starts at or after the end of the blob (HTTP 416). */
  | "invalid_range"
  /** The body does not match the SHA-256 given with it. */
  | "checksum_mismatch"
  /** The store did not answer (connection refused, timeout, 5xx). */
  | "unavailable";

/** The one error adapters throw on purpose; `cause` keeps the driver's error for logs. */
export class BlobStoreError extends Error {
  override readonly name = "BlobStoreError";
  constructor(
    readonly code: BlobStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isBlobStoreError = (error: unknown, code?: BlobStoreErrorCode): error is BlobStoreError =>
  error instanceof BlobStoreError && (code === undefined || error.code === code);
