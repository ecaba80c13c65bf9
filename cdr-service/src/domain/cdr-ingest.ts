import { fromBinary } from "@bufbuild/protobuf";
import { type Cdr, CdrSchema } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import { type ConsumedRecord, type EventLog, type LogRecord, Topic } from "@callmesh/platform/event-log/event-log.js";
import type { Logger } from "@callmesh/platform/logging.js";
import { Counter, type Registry } from "@callmesh/platform/metrics.js";
import type { CdrStore } from "../ports/cdr-store.js";

/**
 * Moves CDRs from the event log into the store. A batch is committed only after the store
 * took it; a record that does not decode, or lacks its keys, is parked in the dead-letter
 * topic with the reason and never blocks the records behind it.
 */
export function runCdrIngest(deps: {
  eventLog: EventLog;
  store: CdrStore;
  logger: Logger;
  metrics: Registry;
  signal: AbortSignal;
}): Promise<void> {
  const ingested = new Counter({
    name: "callmesh_cdr_ingested_total",
    help: "CDR records read from the event log, by outcome",
    labelNames: ["outcome"],
    registers: [deps.metrics],
  });

  async function handle(batch: ConsumedRecord[]) {
    const good: Cdr[] = [];
    const parked: LogRecord[] = [];
    for (const record of batch) {
      const problem = decode(record, good);
      if (problem) {
        deps.logger.warn({ offset: record.offset, reason: problem }, "CDR record parked in dead-letter");
        parked.push({
          topic: Topic.deadLetter,
          key: record.key,
          id: `${Topic.cdrs}:${record.offset}`,
          value: record.value,
          headers: { reason: problem, source: Topic.cdrs, offset: record.offset },
        });
      }
    }
    await deps.store.upsert(good);
    await deps.eventLog.append(parked);
    ingested.inc({ outcome: "stored" }, good.length);
    ingested.inc({ outcome: "dead_lettered" }, parked.length);
  }

  return deps.eventLog.consume({
    group: "cdr-service",
    topic: Topic.cdrs,
    signal: deps.signal,
    handle,
    onError: (error) => deps.logger.error({ err: error }, "CDR batch failed; retrying"),
  });
}

function decode(record: ConsumedRecord, into: Cdr[]): string | undefined {
  let cdr: Cdr;
  try {
    cdr = fromBinary(CdrSchema, record.value);
  } catch (error) {
    return `not a callmesh.events.v1.Cdr: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (!cdr.id || !cdr.tenantId || !cdr.callId) return "Cdr without id, tenant_id or call_id";
  into.push(cdr);
  return undefined;
}
