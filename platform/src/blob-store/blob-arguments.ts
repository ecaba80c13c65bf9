import { BlobStoreError, maxExpiresInSeconds, maxPartNumber, type UploadedPart } from "./blob-store.js";

// Checks of the port's other arguments, shared by the adapters so they refuse the same
// things with the same error (S3 would refuse some only at request time, some never).

export function validateExpiry(expiresInSeconds: number): void {
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > maxExpiresInSeconds) {
    throw new BlobStoreError(
      "invalid_argument",
      `expiresInSeconds must be an integer from 1 to ${maxExpiresInSeconds}, not ${expiresInSeconds}`,
    );
  }
}

export function validatePartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > maxPartNumber) {
    throw new BlobStoreError(
      "invalid_argument",
      `partNumber must be an integer from 1 to ${maxPartNumber}, not ${partNumber}`,
    );
  }
}

/** Parts of a completion: at least one, part numbers valid and strictly ascending. */
export function validateParts(parts: readonly UploadedPart[]): void {
  if (parts.length === 0) throw new BlobStoreError("invalid_argument", "a multipart upload needs at least one part");
  let previous = 0;
  for (const part of parts) {
    validatePartNumber(part.partNumber);
    if (part.partNumber <= previous) {
      throw new BlobStoreError(
        "invalid_argument",
        `parts must be in ascending order of partNumber (${part.partNumber})`,
      );
    }
    previous = part.partNumber;
  }
}

/** An upload id as a token of safe characters: adapters put it in paths and URLs. */
export function validateUploadId(uploadId: string): void {
  if (typeof uploadId !== "string" || !/^[A-Za-z0-9._~=+-]{1,1024}$/.test(uploadId) || uploadId.includes("..")) {
    throw new BlobStoreError("not_found", `no multipart upload ${JSON.stringify(String(uploadId).slice(0, 80))}`);
  }
}

export function validateSha256(sha256: string | undefined): void {
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256)) {
    throw new BlobStoreError("invalid_argument", "sha256 must be 64 lowercase hex digits");
  }
}

/** ETags travel quoted in HTTP headers; the port compares and returns them bare and lowercase. */
export const bareEtag = (etag: string) => etag.trim().replace(/^W\//, "").replace(/^"|"$/g, "").toLowerCase();

/** A Content-Type goes into headers and signatures: visible ASCII and spaces, at most 255 characters. */
export function validateContentType(contentType: string | undefined): void {
  if (contentType !== undefined && !/^[\x21-\x7e][\x20-\x7e]{0,254}$/.test(contentType)) {
    throw new BlobStoreError(
      "invalid_argument",
      `not a content type: ${JSON.stringify(String(contentType).slice(0, 80))}`,
    );
  }
}
