import { randomBytes } from "node:crypto";
import { optionalVar, parseConfig, z } from "../config.js";
import type { BlobStore } from "./blob-store.js";
import { createLocalBlobStore, type LocalBlobStore } from "./local-blob-store.js";
import { createS3BlobStore, type S3BlobStoreOptions } from "./s3-blob-store.js";

const booleanVar = (defaultValue: boolean) =>
  z
    .enum(["true", "false", "1", "0", ""])
    .optional()
    .transform((value) => (value === undefined || value === "" ? defaultValue : value === "true" || value === "1"));

/** The blob store's settings, part of every service's config that keeps or signs blobs. */
export const blobStoreConfigShape = {
  S3_BUCKET: optionalVar().describe("S3 bucket of blobs (recordings); unset: files under the service's data directory"),
  S3_ENDPOINT: optionalVar().describe("URL of an S3-compatible server, also the host of signed URLs; unset: AWS S3"),
  S3_REGION: z.string().min(1).default("us-east-1").describe("S3 region (signing region of an S3-compatible server)"),
  S3_ACCESS_KEY_ID: optionalVar().describe("S3 access key; unset: the AWS SDK's default credential chain"),
  S3_SECRET_ACCESS_KEY: optionalVar().describe("S3 secret key, with S3_ACCESS_KEY_ID"),
  S3_FORCE_PATH_STYLE: booleanVar(false).describe("true: endpoint/bucket/key URLs, as most S3-compatible servers need"),
  BLOB_URL_SECRET: optionalVar().describe(
    "HMAC key (16+ bytes) of the local store's signed URLs; unset: a random one, so links die with the process",
  ),
  BLOB_PUBLIC_URL: optionalVar().describe(
    "base URL at which the local store's signed URLs are served (the service's HTTP server as clients reach it)",
  ),
};

const blobStoreConfigSchema = z
  .object(blobStoreConfigShape)
  .refine((config) => Boolean(config.S3_ACCESS_KEY_ID) === Boolean(config.S3_SECRET_ACCESS_KEY), {
    message: "set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither",
    path: ["S3_SECRET_ACCESS_KEY"],
  });
export type BlobStoreConfig = z.infer<typeof blobStoreConfigSchema>;

export const parseBlobStoreConfig = (env?: Record<string, string | undefined>) =>
  parseConfig(blobStoreConfigSchema, env);

/** The S3 adapter's options as the configuration gives them. */
export function s3Options(config: BlobStoreConfig, bucket: string): S3BlobStoreOptions {
  return {
    bucket,
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    accessKeyId: config.S3_ACCESS_KEY_ID,
    secretAccessKey: config.S3_SECRET_ACCESS_KEY,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
  };
}

/**
 * Picks the blob store adapter: S3 when S3_BUCKET is set, else a directory. `local` is the
 * embedded store's place: its directory, and the URL of the server that mounts
 * `createSignedBlobHandler` when BLOB_PUBLIC_URL does not say (a function for port 0).
 * Answers the local store as such, so the caller can mount its handler.
 */
export async function openBlobStore(
  config: BlobStoreConfig,
  local: { directory: string; baseUrl: string | (() => string) },
): Promise<{ store: BlobStore; local?: LocalBlobStore }> {
  if (config.S3_BUCKET) return { store: createS3BlobStore(s3Options(config, config.S3_BUCKET)) };
  const store = await createLocalBlobStore({
    directory: local.directory,
    baseUrl: config.BLOB_PUBLIC_URL ?? local.baseUrl,
    secret: config.BLOB_URL_SECRET ?? randomBytes(32),
  });
  return { store, local: store };
}
