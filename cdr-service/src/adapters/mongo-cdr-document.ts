import { fromJson, type JsonObject, toJson } from "@bufbuild/protobuf";
import { type Cdr, CdrSchema } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import { cdrExtensions, cdrStartedAtMs } from "../domain/cdr-search-keys.js";

/**
 * One CDR as MongoDB holds it: the record as protobuf JSON plus the fields queries filter
 * and sort on, named as in the record. See docs/mongodb.md.
 */
export interface CdrDocument {
  /** `<tenant id, URI-encoded>/<CDR id>`: the upsert key, one per (tenant, CDR) by construction. */
  _id: string;
  tenantId: string;
  id: string;
  callId: string;
  /** Start of the call (ms precision), the sort key: its end when it has no start, epoch when neither. */
  startedAt: Date;
  /** callmesh.events.v1.CallDirection number. */
  direction: number;
  /** callmesh.events.v1.CallStatus number. */
  status: number;
  /** Every extension involved: caller, rung, missed, answering. */
  extensions: string[];
  /** The Cdr as protobuf JSON, without `variables`. */
  cdr: JsonObject;
  /** The Cdr's variables as {k, v} pairs: PBXes name them, and a name may hold '.' or start with '$'. */
  variables: { k: string; v: string }[];
}

/**
 * The document key of a CDR. The tenant is URI-encoded, so it holds no '/', and the first
 * '/' ends it: no other (tenant, id) pair meets the same key.
 */
export function cdrDocumentId(tenantId: string, id: string): string {
  return `${encodeURIComponent(tenantId)}/${id}`;
}

export function toCdrDocument(cdr: Cdr): CdrDocument {
  const { variables: _variables, ...json } = toJson(CdrSchema, cdr) as JsonObject;
  return {
    _id: cdrDocumentId(cdr.tenantId, cdr.id),
    tenantId: cdr.tenantId,
    id: cdr.id,
    callId: cdr.callId,
    startedAt: new Date(cdrStartedAtMs(cdr)),
    direction: cdr.direction,
    status: cdr.status,
    extensions: cdrExtensions(cdr),
    cdr: json,
    variables: Object.entries(cdr.variables).map(([k, v]) => ({ k, v })),
  };
}

export function fromCdrDocument(document: Pick<CdrDocument, "cdr" | "variables">): Cdr {
  const variables = Object.fromEntries((document.variables ?? []).map(({ k, v }) => [k, v]));
  // Fields a newer writer added are skipped, so a rolling upgrade never breaks reads.
  return fromJson(CdrSchema, { ...document.cdr, variables }, { ignoreUnknownFields: true });
}
