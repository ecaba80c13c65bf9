import { createHmac, timingSafeEqual } from "node:crypto";
import { validateBlobKey } from "./blob-key.js";
import type { SignedRequest } from "./blob-store.js";

/** What a signed URL of the local blob store allows: one operation on one key (and, for `part`, one part). */
export interface SignedTarget {
  op: "get" | "put" | "part";
  key: string;
  uploadId?: string;
  partNumber?: number;
  /** For `put`: the Content-Type the uploader must send. */
  contentType?: string;
}

export type VerifyResult =
  | { ok: true; target: SignedTarget }
  | { ok: false; reason: "malformed" | "bad_signature" | "expired" };

export interface BlobUrlSigner {
  /** The path under which signed URLs live (`<base path>/blobs/`); the handler serves only these. */
  readonly pathPrefix: string;
  sign(target: SignedTarget, expiresInSeconds: number): Omit<SignedRequest, "headers">;
  /** Checks a request's path and query (as in `req.url`): signature first, in constant time, then expiry. */
  verify(pathAndQuery: string): VerifyResult;
}

/**
 * Signs local blob URLs `<baseUrl>/blobs/<key>?op=…&expires=…[&uploadId=…&partNumber=…][&ct=…]&sig=…`
 * with HMAC-SHA256 over every field, so that changing any of them (or the key in the path)
 * voids the signature. `expires` is a Unix time in seconds; like a SigV4 URL, one signed for
 * N seconds lives between N−1 and N seconds.
 */
export function createBlobUrlSigner(options: {
  baseUrl: string | (() => string);
  secret: string | Uint8Array;
}): BlobUrlSigner {
  const secret = typeof options.secret === "string" ? Buffer.from(options.secret, "utf8") : Buffer.from(options.secret);
  if (secret.length < 16) throw new Error("the blob URL signing secret must be at least 16 bytes");
  const baseUrl = () =>
    (typeof options.baseUrl === "function" ? options.baseUrl() : options.baseUrl).replace(/\/+$/, "");
  // Read when used, not now: a server on port 0 knows its URL only once it listens.
  const prefixOf = () => `${new URL(baseUrl()).pathname.replace(/\/+$/, "")}/blobs/`;

  const mac = (target: SignedTarget, expires: number) =>
    createHmac("sha256", secret)
      .update(
        [
          "callmesh-blob-v1",
          target.op,
          target.key,
          String(expires),
          target.uploadId ?? "",
          target.partNumber === undefined ? "" : String(target.partNumber),
          target.contentType ?? "",
        ].join("\n"),
      )
      .digest();

  return {
    get pathPrefix() {
      return prefixOf();
    },
    sign(target, expiresInSeconds) {
      const expires = Math.floor(Date.now() / 1000) + expiresInSeconds;
      const query = new URLSearchParams({ op: target.op, expires: String(expires) });
      if (target.uploadId !== undefined) query.set("uploadId", target.uploadId);
      if (target.partNumber !== undefined) query.set("partNumber", String(target.partNumber));
      if (target.contentType !== undefined) query.set("ct", target.contentType);
      query.set("sig", mac(target, expires).toString("base64url"));
      const path = target.key.split("/").map(encodeURIComponent).join("/");
      return {
        method: target.op === "get" ? "GET" : "PUT",
        url: `${baseUrl()}/blobs/${path}?${query}`,
        expiresAt: new Date(expires * 1000),
      };
    },
    verify(pathAndQuery) {
      const url = new URL(pathAndQuery, "http://blob.invalid");
      const pathPrefix = prefixOf();
      if (!url.pathname.startsWith(pathPrefix)) return { ok: false, reason: "malformed" };
      let key: string;
      try {
        key = url.pathname.slice(pathPrefix.length).split("/").map(decodeURIComponent).join("/");
        validateBlobKey(key);
      } catch {
        return { ok: false, reason: "malformed" };
      }
      const q = url.searchParams;
      const op = q.get("op");
      const expires = Number(q.get("expires"));
      const sig = Buffer.from(q.get("sig") ?? "", "base64url");
      if ((op !== "get" && op !== "put" && op !== "part") || !Number.isSafeInteger(expires)) {
        return { ok: false, reason: "malformed" };
      }
      const target: SignedTarget = { op, key };
      const uploadId = q.get("uploadId");
      const partNumber = q.get("partNumber");
      const contentType = q.get("ct");
      if (uploadId !== null) target.uploadId = uploadId;
      if (partNumber !== null) {
        if (!/^\d{1,5}$/.test(partNumber)) return { ok: false, reason: "malformed" };
        target.partNumber = Number(partNumber);
      }
      if (contentType !== null) target.contentType = contentType;
      if (op === "part" && (target.uploadId === undefined || target.partNumber === undefined)) {
        return { ok: false, reason: "malformed" };
      }
      const expected = mac(target, expires);
      if (sig.length !== expected.length || !timingSafeEqual(sig, expected))
        return { ok: false, reason: "bad_signature" };
      if (Date.now() >= expires * 1000) return { ok: false, reason: "expired" };
      return { ok: true, target };
    },
  };
}
