import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { CdrService } from "@callmesh/gen/callmesh/crm/v1/cdr_service_pb.js";
import { tenantIdHeader } from "@callmesh/platform/internal-headers.js";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { CdrCursor, CdrStore } from "../ports/cdr-store.js";

const defaultPageSize = 50;

/** callmesh.crm.v1.CdrService behind the gateway, which has authenticated the caller. */
export function createCdrService(deps: { store: CdrStore }): Partial<ServiceImpl<typeof CdrService>> {
  return {
    async listCdrs(request, context) {
      const tenantId = tenantOf(context);
      const page = await deps.store.list({
        tenantId,
        // Stores keep whole ms; rounding a sub-ms bound up keeps from-inclusive and
        // before-exclusive exact (and PostgreSQL refuses a fraction for a bigint).
        startedFrom: request.startTime ? Math.ceil(timestampMs(request.startTime)) : undefined,
        startedBefore: request.endTime ? Math.ceil(timestampMs(request.endTime)) : undefined,
        direction: request.direction || undefined,
        extension: request.extension || undefined,
        limit: request.pageSize || defaultPageSize,
        after: request.pageToken ? decodePageToken(request.pageToken) : undefined,
      });
      return { cdrs: page.cdrs, nextPageToken: page.next ? encodePageToken(page.next) : "" };
    },

    async getCdr(request, context) {
      const cdr = await deps.store.get(tenantOf(context), request.id);
      if (!cdr) throw new ConnectError(`no CDR with id '${request.id}'`, Code.NotFound);
      return { cdr };
    },
  };
}

/** The tenant is re-checked here: a request without one never reaches the store. */
function tenantOf(context: HandlerContext): string {
  const tenantId = context.requestHeader.get(tenantIdHeader);
  if (!tenantId) throw new ConnectError(`missing ${tenantIdHeader}`, Code.Unauthenticated);
  return tenantId;
}

export function encodePageToken(cursor: CdrCursor): string {
  return Buffer.from(JSON.stringify([cursor.startedAtMs, cursor.id])).toString("base64url");
}

export function decodePageToken(token: string): CdrCursor {
  try {
    const [startedAtMs, id] = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as unknown[];
    if (typeof startedAtMs === "number" && typeof id === "string") return { startedAtMs, id };
  } catch {
    // fall through to the error below
  }
  throw new ConnectError("page_token is not one this API issued", Code.InvalidArgument);
}
