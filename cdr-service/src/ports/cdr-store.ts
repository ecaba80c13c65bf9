import type { CallDirection } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import type { Cdr } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";

/** Which CDRs of one tenant to list. */
export interface CdrQuery {
  tenantId: string;
  /** Calls started at or after (whole ms since epoch). */
  startedFrom?: number;
  /** Calls started before (whole ms since epoch). */
  startedBefore?: number;
  direction?: CallDirection;
  /** Calls this extension made, rang on or answered. */
  extension?: string;
  limit: number;
  /** Position after which the page starts (newest first); from a previous page. */
  after?: CdrCursor;
}

/** A position in the newest-first order: start time, then id. */
export interface CdrCursor {
  startedAtMs: number;
  id: string;
}

/**
 * The CDR store port. Adapters: PostgreSQL (embedded default, on PGlite) and MongoDB for
 * large deployments. Upserts are keyed by (tenant, CDR id): storing a CDR again replaces it,
 * so redelivery never stores a call twice.
 */
export interface CdrStore {
  upsert(cdrs: readonly Cdr[]): Promise<void>;
  /** Newest first; `next` is set when more rows follow. */
  list(query: CdrQuery): Promise<{ cdrs: Cdr[]; next?: CdrCursor }>;
  get(tenantId: string, id: string): Promise<Cdr | undefined>;
}

/** An opened store: the port plus what the composition root needs to run it. */
export interface CdrStoreHandle {
  readonly store: CdrStore;
  /** Resolves true when the backing database answers (for /readyz); never rejects. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
