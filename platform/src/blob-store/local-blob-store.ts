import { createHash, randomBytes, randomUUID } from "node:crypto";
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
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
  type ByteRange,
  defaultContentType,
  minPartSize,
  type PutBlobOptions,
  type PutBlobResult,
  type SignedRequest,
  type UploadedPart,
} from "./blob-store.js";
import { type BlobUrlSigner, createBlobUrlSigner } from "./blob-url-signer.js";
import { resolveByteRange, validateByteRange } from "./byte-range.js";

export interface LocalBlobStoreOptions {
  /** Where blobs live; created if missing. One process owns it at a time. */
  directory: string;
  /**
   * Base of signed URLs: the HTTP server that mounts `createSignedBlobHandler` (e.g.
   * `http://127.0.0.1:3000`). A function is read at each signing, for servers on port 0.
   */
  baseUrl: string | (() => string);
  /** HMAC key of signed URLs, at least 16 bytes; URLs signed with another secret are refused. */
  secret: string | Uint8Array;
}

/** The local store, plus the streaming entry points its signed-URL handler needs. */
export interface LocalBlobStore extends BlobStore {
  readonly signer: BlobUrlSigner;
  /** `put` from a stream (a request body), without holding it in memory. */
  putStream(
    key: string,
    body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    options?: PutBlobOptions,
  ): Promise<PutBlobResult>;
  /** Stores one part of a multipart upload; answers its ETag (MD5 hex, as S3's). */
  uploadPart(key: string, uploadId: string, partNumber: number, body: AsyncIterable<Uint8Array>): Promise<string>;
  /** The blob's info and an open handle on its bytes (stable even if the blob is replaced meanwhile); close it. */
  openBlob(key: string): Promise<{ info: BlobInfo; file: FileHandle }>;
}

/** Longest key segment the local layout can hold: file names are at most 255 bytes, and a suffix is added. */
export const maxLocalSegmentBytes = 250;

/** The sidecar of a blob; its atomic rename is the commit point of a put. */
interface MetaFile {
  v: 1;
  key: string;
  size: number;
  contentType: string;
  etag: string;
  sha256: string;
  lastModified: number;
  /** Name of the bytes under `data/`: each version gets a fresh file, so a replaced blob never mixes. */
  data: string;
}

interface UploadFile {
  key: string;
  contentType?: string;
}

/**
 * The embedded blob store: files in a directory.
 *
 *   objects/<seg>.d/…/<last seg>.meta   one sidecar per key (JSON: content type, size, ETag, SHA-256, data file)
 *   data/<uuid>                         the bytes of one version of one blob
 *   uploads/<uploadId>/upload.json, part-<n>   multipart uploads in progress
 *   tmp/                                files being written
 *
 * The `.d` / `.meta` suffixes keep keys `a` and `a/b` apart (a file and a directory
 * cannot share a name). A put writes and fsyncs the bytes to a new data file, writes the
 * sidecar to tmp/, fsyncs it and renames it over the old one (the commit), fsyncs the
 * directory, then removes the old data file. A crash at any point leaves the old blob or
 * the new one; at worst an orphan data file, which no sidecar names.
 * Writers of one key are serialized in-process; keys with a segment longer than 250 bytes
 * are refused here (S3 would take them).
 */
export async function createLocalBlobStore(options: LocalBlobStoreOptions): Promise<LocalBlobStore> {
  const root = options.directory;
  const dirs = {
    objects: join(root, "objects"),
    data: join(root, "data"),
    uploads: join(root, "uploads"),
    tmp: join(root, "tmp"),
  };
  for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
  const signer = createBlobUrlSigner({ baseUrl: options.baseUrl, secret: options.secret });
  const locks = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every earlier writer of `key` in this process. */
  function withKeyLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = locks.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.then(
      () => {},
      () => {},
    );
    locks.set(key, settled);
    settled.then(() => {
      if (locks.get(key) === settled) locks.delete(key);
    });
    return next;
  }

  function checkKey(key: string): void {
    validateBlobKey(key);
    for (const segment of key.split("/")) {
      if (Buffer.byteLength(segment) > maxLocalSegmentBytes) {
        throw new BlobStoreError(
          "invalid_key",
          `blob key segment of ${Buffer.byteLength(segment)} bytes: the local store takes at most ${maxLocalSegmentBytes}`,
        );
      }
    }
  }

  const metaPath = (key: string) => {
    const segments = key.split("/");
    const last = segments.pop() as string;
    return join(dirs.objects, ...segments.map((s) => `${s}.d`), `${last}.meta`);
  };

  async function readMeta(key: string): Promise<MetaFile | undefined> {
    try {
      return JSON.parse(await readFile(metaPath(key), "utf8")) as MetaFile;
    } catch (error) {
      if (isErrno(error, "ENOENT") || isErrno(error, "ENOTDIR")) return undefined;
      throw error;
    }
  }

  const infoOf = (meta: MetaFile): BlobInfo => ({
    key: meta.key,
    size: meta.size,
    contentType: meta.contentType,
    etag: meta.etag,
    lastModified: new Date(meta.lastModified),
    sha256: meta.sha256,
  });

  /** Makes the sidecar of `meta.key` point at its new data file; drops the data file it replaced. */
  async function commit(meta: MetaFile): Promise<void> {
    const tmp = join(dirs.tmp, randomUUID());
    await writeDurably(tmp, JSON.stringify(meta));
    const path = metaPath(meta.key);
    await withKeyLock(meta.key, async () => {
      const old = await readMeta(meta.key);
      // A delete of a sibling may remove an empty parent between mkdir and rename: retry.
      for (let attempt = 0; ; attempt++) {
        await makeDirsDurably(dirs.objects, dirname(path));
        try {
          await rename(tmp, path);
          break;
        } catch (error) {
          if (!isErrno(error, "ENOENT") || attempt >= 5) throw error;
        }
      }
      await fsyncDir(dirname(path));
      if (old && old.data !== meta.data) await unlinkQuietly(join(dirs.data, old.data));
    });
  }

  /** Writes `chunks` to a new data file, fsynced, hashing as it goes. */
  async function writeData(
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<{ name: string; size: number; sha256: string; md5: Buffer }> {
    const name = randomUUID();
    const path = join(dirs.data, name);
    const sha256 = createHash("sha256");
    const md5 = createHash("md5");
    let size = 0;
    const file = await open(path, "wx");
    try {
      for await (const chunk of chunks) {
        sha256.update(chunk);
        md5.update(chunk);
        size += chunk.byteLength;
        await writeAll(file, chunk);
      }
      await file.sync();
    } catch (error) {
      await file.close();
      await unlinkQuietly(path);
      throw error;
    }
    await file.close();
    await fsyncDir(dirs.data);
    return { name, size, sha256: sha256.digest("hex"), md5: md5.digest() };
  }

  async function putStream(
    key: string,
    body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    putOptions: PutBlobOptions = {},
  ): Promise<PutBlobResult> {
    checkKey(key);
    validateContentType(putOptions.contentType);
    validateSha256(putOptions.sha256);
    const written = await writeData(body);
    if (putOptions.sha256 !== undefined && putOptions.sha256 !== written.sha256) {
      await unlinkQuietly(join(dirs.data, written.name));
      throw new BlobStoreError("checksum_mismatch", `the body of ${key} does not match the SHA-256 given`);
    }
    const etag = written.md5.toString("hex");
    await commit({
      v: 1,
      key,
      size: written.size,
      contentType: putOptions.contentType ?? defaultContentType,
      etag,
      sha256: written.sha256,
      lastModified: Date.now(),
      data: written.name,
    });
    return { size: written.size, sha256: written.sha256, etag };
  }

  async function openBlob(key: string): Promise<{ info: BlobInfo; file: FileHandle }> {
    checkKey(key);
    // The data file can vanish between reading the sidecar and opening it (a concurrent
    // overwrite or delete); the sidecar then names the newer state, so read it again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const meta = await readMeta(key);
      if (!meta) break;
      try {
        return { info: infoOf(meta), file: await open(join(dirs.data, meta.data), "r") };
      } catch (error) {
        if (!isErrno(error, "ENOENT")) throw error;
      }
    }
    throw new BlobStoreError("not_found", `no blob ${key}`);
  }

  async function readUpload(key: string, uploadId: string): Promise<UploadFile> {
    validateUploadId(uploadId);
    try {
      const upload = JSON.parse(await readFile(join(dirs.uploads, uploadId, "upload.json"), "utf8")) as UploadFile;
      if (upload.key === key) return upload;
    } catch (error) {
      if (!isErrno(error, "ENOENT")) throw error;
    }
    throw new BlobStoreError("not_found", `no multipart upload ${uploadId} of ${key}`);
  }

  const partPath = (uploadId: string, partNumber: number) => join(dirs.uploads, uploadId, `part-${partNumber}`);

  function signed(request: Omit<SignedRequest, "headers">, headers: Record<string, string> = {}): SignedRequest {
    return { ...request, headers };
  }

  async function* listDir(dir: string, keyPrefix: string, partial: string): AsyncGenerator<BlobListing> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if (isErrno(error, "ENOENT") || isErrno(error, "ENOTDIR")) return;
      throw error;
    }
    // Sort as the keys sort: a directory `s` holds keys `s/…`, so it sorts as "s/".
    const entries = names
      .flatMap((name) => {
        if (name.endsWith(".d")) return [{ segment: name.slice(0, -2), dir: true, name }];
        if (name.endsWith(".meta")) return [{ segment: name.slice(0, -5), dir: false, name }];
        return [];
      })
      .filter((entry) => entry.segment.startsWith(partial))
      .map((entry) => ({ ...entry, order: Buffer.from(entry.dir ? `${entry.segment}/` : entry.segment) }))
      .sort((a, b) => Buffer.compare(a.order, b.order));
    for (const entry of entries) {
      if (entry.dir) {
        yield* listDir(join(dir, entry.name), `${keyPrefix}${entry.segment}/`, "");
        continue;
      }
      const meta = await readMeta(`${keyPrefix}${entry.segment}`);
      if (meta) yield { key: meta.key, size: meta.size, etag: meta.etag, lastModified: new Date(meta.lastModified) };
    }
  }

  return {
    signer,
    putStream,
    openBlob,

    put: (key, body, putOptions) => putStream(key, [body], putOptions),

    async get(key, getOptions: { range?: ByteRange } = {}): Promise<BlobContent> {
      if (getOptions.range) validateByteRange(getOptions.range);
      const { info, file } = await openBlob(key);
      try {
        const range = getOptions.range ? resolveByteRange(getOptions.range, info.size) : undefined;
        const start = range?.start ?? 0;
        const length = range ? range.end - range.start + 1 : info.size;
        const body = new Uint8Array(length);
        for (let done = 0; done < length; ) {
          const { bytesRead } = await file.read(body, done, length - done, start + done);
          if (bytesRead === 0) throw new Error(`data file of ${key} is shorter than its sidecar says`);
          done += bytesRead;
        }
        return range ? { ...info, body, range } : { ...info, body };
      } finally {
        await file.close();
      }
    },

    async head(key) {
      checkKey(key);
      const meta = await readMeta(key);
      return meta ? infoOf(meta) : undefined;
    },

    async delete(key) {
      checkKey(key);
      await withKeyLock(key, async () => {
        const meta = await readMeta(key);
        if (!meta) return;
        const path = metaPath(key);
        await unlink(path);
        await fsyncDir(dirname(path));
        await unlinkQuietly(join(dirs.data, meta.data));
        await removeEmptyDirs(dirs.objects, dirname(path));
      });
    },

    list(prefix) {
      validateBlobPrefix(prefix);
      const segments = prefix.split("/");
      const partial = segments.pop() as string;
      const dir = join(dirs.objects, ...segments.map((s) => `${s}.d`));
      return listDir(dir, segments.map((s) => `${s}/`).join(""), partial);
    },

    async signDownload(key, signOptions) {
      checkKey(key);
      validateExpiry(signOptions.expiresInSeconds);
      return signed(signer.sign({ op: "get", key }, signOptions.expiresInSeconds));
    },

    async signUpload(key, signOptions) {
      checkKey(key);
      validateExpiry(signOptions.expiresInSeconds);
      validateContentType(signOptions.contentType);
      const { contentType } = signOptions;
      const request = signer.sign({ op: "put", key, contentType }, signOptions.expiresInSeconds);
      return signed(request, contentType === undefined ? {} : { "content-type": contentType });
    },

    async createMultipartUpload(key, uploadOptions = {}) {
      checkKey(key);
      validateContentType(uploadOptions.contentType);
      const uploadId = randomBytes(16).toString("hex");
      const dir = join(dirs.uploads, uploadId);
      await mkdir(dir);
      const upload: UploadFile = { key, contentType: uploadOptions.contentType };
      await writeDurably(join(dir, "upload.json"), JSON.stringify(upload));
      return uploadId;
    },

    async uploadPart(key, uploadId, partNumber, body) {
      checkKey(key);
      validatePartNumber(partNumber);
      await readUpload(key, uploadId);
      const tmp = join(dirs.tmp, randomUUID());
      const md5 = createHash("md5");
      const file = await open(tmp, "wx");
      try {
        for await (const chunk of body) {
          md5.update(chunk);
          await writeAll(file, chunk);
        }
        await file.sync();
      } catch (error) {
        await file.close();
        await unlinkQuietly(tmp);
        throw error;
      }
      await file.close();
      try {
        await rename(tmp, partPath(uploadId, partNumber));
      } catch (error) {
        await unlinkQuietly(tmp);
        // Aborted or completed meanwhile.
        if (isErrno(error, "ENOENT"))
          throw new BlobStoreError("not_found", `no multipart upload ${uploadId} of ${key}`);
        throw error;
      }
      return md5.digest("hex");
    },

    async signUploadPart(key, uploadId, partNumber, signOptions) {
      checkKey(key);
      validateUploadId(uploadId);
      validatePartNumber(partNumber);
      validateExpiry(signOptions.expiresInSeconds);
      return signed(signer.sign({ op: "part", key, uploadId, partNumber }, signOptions.expiresInSeconds));
    },

    async completeMultipartUpload(key, uploadId, parts: readonly UploadedPart[]) {
      checkKey(key);
      validateParts(parts);
      const upload = await readUpload(key, uploadId);
      const sizes: number[] = [];
      for (const [i, part] of parts.entries()) {
        let size: number;
        try {
          size = (await stat(partPath(uploadId, part.partNumber))).size;
        } catch (error) {
          if (!isErrno(error, "ENOENT")) throw error;
          throw new BlobStoreError(
            "invalid_argument",
            `part ${part.partNumber} of upload ${uploadId} was not uploaded`,
          );
        }
        if (i < parts.length - 1 && size < minPartSize) {
          throw new BlobStoreError(
            "invalid_argument",
            `part ${part.partNumber} has ${size} bytes: every part but the last needs at least ${minPartSize}`,
          );
        }
        sizes.push(size);
      }
      // Concatenate in part order, checking each part against the ETag the uploader was given.
      const partMd5s: Buffer[] = [];
      async function* concatenated(): AsyncGenerator<Uint8Array> {
        for (const part of parts) {
          const md5 = createHash("md5");
          const file = await open(partPath(uploadId, part.partNumber), "r");
          try {
            for await (const chunk of file.createReadStream({ autoClose: false })) {
              md5.update(chunk as Buffer);
              yield chunk as Buffer;
            }
          } finally {
            await file.close();
          }
          const digest = md5.digest();
          if (digest.toString("hex") !== bareEtag(part.etag)) {
            throw new BlobStoreError(
              "invalid_argument",
              `the ETag of part ${part.partNumber} does not match its bytes`,
            );
          }
          partMd5s.push(digest);
        }
      }
      const written = await writeData(concatenated());
      const meta: MetaFile = {
        v: 1,
        key,
        size: written.size,
        contentType: upload.contentType ?? defaultContentType,
        etag: `${createHash("md5").update(Buffer.concat(partMd5s)).digest("hex")}-${parts.length}`,
        sha256: written.sha256,
        lastModified: Date.now(),
        data: written.name,
      };
      await commit(meta);
      await rm(join(dirs.uploads, uploadId), { recursive: true, force: true });
      return infoOf(meta);
    },

    async abortMultipartUpload(key, uploadId) {
      checkKey(key);
      try {
        await readUpload(key, uploadId);
      } catch (error) {
        if (error instanceof BlobStoreError && error.code === "not_found") return;
        throw error;
      }
      await rm(join(dirs.uploads, uploadId), { recursive: true, force: true });
    },

    async close() {
      await Promise.all([...locks.values()]);
    },
  };
}

const isErrno = (error: unknown, code: string) => (error as NodeJS.ErrnoException | undefined)?.code === code;

async function writeAll(file: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let done = 0; done < chunk.byteLength; ) {
    const { bytesWritten } = await file.write(chunk, done, chunk.byteLength - done);
    done += bytesWritten;
  }
}

/** Writes a new small file and fsyncs it (the caller renames it into place). */
async function writeDurably(path: string, text: string): Promise<void> {
  const file = await open(path, "wx");
  try {
    await file.writeFile(text, "utf8");
    await file.sync();
  } finally {
    await file.close();
  }
}

async function fsyncDir(path: string): Promise<void> {
  const dir = await open(path, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** mkdir -p from `root` down to `dir`, fsyncing the parent of each directory it creates. */
async function makeDirsDurably(root: string, dir: string): Promise<void> {
  if (dir === root) return;
  try {
    await mkdir(dir);
  } catch (error) {
    if (isErrno(error, "EEXIST")) return;
    if (!isErrno(error, "ENOENT")) throw error;
    await makeDirsDurably(root, dirname(dir));
    try {
      await mkdir(dir);
    } catch (again) {
      if (!isErrno(again, "EEXIST")) throw again;
      return;
    }
  }
  await fsyncDir(dirname(dir));
}

/** rmdir up from `dir` while directories are empty, stopping at `root`. */
async function removeEmptyDirs(root: string, dir: string): Promise<void> {
  for (let current = dir; current !== root && current.startsWith(root); current = dirname(current)) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
  }
}

async function unlinkQuietly(path: string): Promise<void> {
  await unlink(path).catch((error: unknown) => {
    if (!isErrno(error, "ENOENT")) throw error;
  });
}
