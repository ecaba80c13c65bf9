/**
 * The event log port: the one way data flows from the gateway to the services behind it.
 * Adapters: a PostgreSQL table (embedded default, on PGlite) and, for large deployments,
 * Kafka. Semantics every adapter keeps: a record is durable once `append` resolves;
 * records of one key stay in order; a consumer group commits a batch only after its
 * handler resolved (at-least-once: handlers must be idempotent).
 */
export interface EventLog {
  append(records: readonly LogRecord[]): Promise<void>;
  /** Runs until `signal` aborts, handing batches of `topic` to `handle` in log order. */
  consume(options: ConsumeOptions): Promise<void>;
  /** Releases connections; consumers must have stopped. */
  close(): Promise<void>;
}

/** The topics of the log; payloads are protobuf messages of `callmesh.events.v1`. */
export const Topic = {
  /** `CallEvent`, keyed by call id. */
  callEvents: "call-events",
  /** `Cdr`, keyed by call id. */
  cdrs: "cdrs",
  /** `Presence`, keyed by tenant and extension. */
  presence: "presence",
  /** `AgentEvent` (online, offline, spool alerts), keyed by agent id. */
  agentEvents: "agent-events",
  /** Records a consumer or the gateway could not use, with the reason; kept for inspection and replay. */
  deadLetter: "dead-letter",
} as const;
export type Topic = (typeof Topic)[keyof typeof Topic];

export interface LogRecord {
  topic: Topic;
  /** Partitioning key: records of one key are consumed in order (the call id). */
  key: string;
  /** Identity of the record: appending an id the log already holds is a no-op where the adapter can tell. */
  id: string;
  value: Uint8Array;
  /** Small string metadata (e.g. the dead-letter reason and source topic). */
  headers?: Record<string, string>;
}

export interface ConsumedRecord extends LogRecord {
  /** Position in the log, as the adapter counts it. */
  offset: string;
}

export interface ConsumeOptions {
  /** Consumer group: each group sees every record once, committed per group. */
  group: string;
  topic: Topic;
  /** Most records per batch. */
  maxBatch?: number;
  signal: AbortSignal;
  /** Resolving commits the batch; throwing retries the same batch after a pause. */
  handle(batch: ConsumedRecord[]): Promise<void>;
  /** Told about a failed batch before the retry. */
  onError?(error: unknown): void;
}
