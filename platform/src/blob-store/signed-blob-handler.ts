import { pipeline } from "node:stream/promises";
import type { DualHandler } from "../http/serve.js";
import { isBlobStoreError } from "./blob-store.js";
import { parseRangeHeader, resolveByteRange } from "./byte-range.js";
import type { LocalBlobStore } from "./local-blob-store.js";

type Request = Parameters<DualHandler>[0];
type Response = Parameters<DualHandler>[1];

/**
 * Serves the signed URLs of a local blob store, as S3 serves presigned ones, on the HTTP
 * server a service already runs: mount it in front of the API handler; it answers true
 * when the request was one of its URLs (`<base path>/blobs/…`) and it took it.
 *
 * - `op=get`: GET (or HEAD) of the blob; one `Range: bytes=…` answers 206 with Content-Range,
 *   an unsatisfiable one 416; ETag, Last-Modified, Content-Type as stored.
 * - `op=put`: PUT of the whole blob; when signed with a Content-Type, the request must send it.
 * - `op=part`: PUT of one part of a multipart upload; answers its `ETag` header.
 * - 403 on a missing, wrong or expired signature (before the key is looked at); 404 on a
 *   missing blob or upload; 405 on a method the URL was not signed for.
 */
export function createSignedBlobHandler(store: LocalBlobStore): (req: Request, res: Response) => boolean {
  return (req, res) => {
    const pathAndQuery = req.url ?? "";
    if (!pathAndQuery.startsWith(store.signer.pathPrefix)) return false;
    serveSigned(store, req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy(error instanceof Error ? error : undefined);
        return;
      }
      if (isBlobStoreError(error, "not_found")) return reply(res, 404, "not found");
      if (isBlobStoreError(error)) return reply(res, 400, error.message);
      reply(res, 500, "blob store failed");
    });
    return true;
  };
}

async function serveSigned(store: LocalBlobStore, req: Request, res: Response): Promise<void> {
  const verified = store.signer.verify(req.url ?? "");
  if (!verified.ok) {
    req.resume();
    return reply(res, 403, verified.reason === "expired" ? "link expired" : "signature invalid");
  }
  const { target } = verified;
  const method = req.method ?? "";
  const allowed = target.op === "get" ? ["GET", "HEAD"] : ["PUT"];
  if (!allowed.includes(method)) {
    req.resume();
    res.setHeader("allow", allowed.join(", "));
    return reply(res, 405, `this link is for ${allowed.join(" or ")}`);
  }
  const contentType = header(req, "content-type");

  if (target.op === "put") {
    // As SigV4 does with a signed header: the uploader must send exactly what was signed.
    if (target.contentType !== undefined && contentType !== target.contentType) {
      req.resume();
      return reply(res, 403, "content-type differs from the signed one");
    }
    const result = await store.putStream(target.key, req, { contentType: target.contentType ?? contentType });
    res.writeHead(200, { etag: `"${result.etag}"`, "content-length": "0" });
    res.end();
    return;
  }

  if (target.op === "part") {
    const etag = await store.uploadPart(target.key, target.uploadId ?? "", target.partNumber ?? 0, req);
    res.writeHead(200, { etag: `"${etag}"`, "content-length": "0" });
    res.end();
    return;
  }

  const { info, file } = await store.openBlob(target.key);
  try {
    const headers: Record<string, string> = {
      "content-type": info.contentType,
      etag: `"${info.etag}"`,
      "last-modified": info.lastModified.toUTCString(),
      "accept-ranges": "bytes",
    };
    const asked = parseRangeHeader(header(req, "range"));
    let range = { start: 0, end: info.size - 1 };
    let status = 200;
    if (asked) {
      try {
        range = resolveByteRange(asked, info.size);
        status = 206;
        headers["content-range"] = `bytes ${range.start}-${range.end}/${info.size}`;
      } catch (error) {
        if (!isBlobStoreError(error, "invalid_range")) throw error;
        res.writeHead(416, { "content-range": `bytes */${info.size}`, "content-type": "text/plain; charset=utf-8" });
        res.end("range not satisfiable\n");
        return;
      }
    }
    headers["content-length"] = String(Math.max(0, range.end - range.start + 1));
    res.writeHead(status, headers);
    if (method === "HEAD" || info.size === 0) {
      res.end();
      return;
    }
    await pipeline(file.createReadStream({ start: range.start, end: range.end, autoClose: false }), res);
  } finally {
    await file.close();
  }
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function reply(res: Response, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(`${text}\n`);
}
