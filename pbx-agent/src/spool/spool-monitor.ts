import { AgentEventKind } from "@callmesh/gen/callmesh/events/v1/agent_event_pb.js";
import type { Logger } from "@callmesh/platform/logging.js";
import { Counter, Gauge, type Registry } from "@callmesh/platform/metrics.js";
import type { DiskSpool, RejectReason, SpoolEvent } from "./disk-spool.js";

/** A notice for the gateway, sent out of band (not spooled). */
export interface SpoolNotice {
  kind: AgentEventKind.SPOOL_NEAR_FULL | AgentEventKind.SPOOL_FULL | AgentEventKind.SPOOL_RECOVERED;
  message: string;
}

export interface SpoolMonitorDeps {
  logger: Logger;
  metrics: Registry;
  /** Tells the gateway (and so the fleet) at once. */
  notify(notice: SpoolNotice): void;
  /** How often a line about lost items is logged at most (default 10 s). */
  rejectLogEveryMs?: number;
}

/**
 * Makes the spool's state seen: gauges of its depth, bytes, limit and held items; a notice,
 * a log line and a gauge when it passes its alert threshold (warn) or becomes full (error);
 * a counter of lost items by reason, and a notice and a log line when it accepts items again.
 */
export function monitorSpool(spool: DiskSpool, deps: SpoolMonitorDeps): void {
  const { logger, metrics } = deps;
  const rejectLogEveryMs = deps.rejectLogEveryMs ?? 10_000;
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [metrics],
      collect() {
        this.set(read());
      },
    });
  gauge("callmesh_agent_spool_depth", "Items in the spool not yet acked by the gateway", () => spool.stats().depth);
  gauge("callmesh_agent_spool_bytes", "Bytes of the spool's files", () => spool.stats().bytes);
  gauge("callmesh_agent_spool_limit_bytes", "Most bytes the spool's files may hold", () => spool.stats().limitBytes);
  gauge("callmesh_agent_spool_alert_bytes", "Bytes past which the spool is near full", () => spool.stats().alertBytes);
  gauge(
    "callmesh_agent_spool_held_items",
    "Items held in memory because the spool cannot write them (full or disk failing)",
    () => spool.stats().held,
  );
  gauge("callmesh_agent_spool_near_full", "1 while the spool is past its alert threshold", () =>
    spool.stats().nearFull ? 1 : 0,
  );
  gauge("callmesh_agent_spool_full", "1 while the spool cannot write new items (limit hit or disk failing)", () =>
    spool.stats().full ? 1 : 0,
  );
  const rejected = new Counter({
    name: "callmesh_agent_spool_rejected_total",
    help: "Items lost because the spool could not write them and its memory overflow was full, by reason",
    labelNames: ["reason"],
    registers: [metrics],
  });
  const diskFailures = new Counter({
    name: "callmesh_agent_spool_disk_failures_total",
    help: "Times the spool's disk failed a write (the spool holds items and retries), by error code",
    labelNames: ["code"],
    registers: [metrics],
  });
  for (const reason of ["limit", "disk_error", "too_large"] satisfies RejectReason[]) rejected.inc({ reason }, 0);

  let lostSinceLog = 0;
  let lastLostLog = Number.NEGATIVE_INFINITY;
  const lostByReason = new Map<RejectReason, number>();

  spool.onEvent((event: SpoolEvent) => {
    switch (event.type) {
      case "near_full": {
        const message = `spool near full: ${describeUse(event.bytes, event.limitBytes)}; the gateway is not keeping up`;
        logger.warn({ spoolBytes: event.bytes, spoolLimitBytes: event.limitBytes }, message);
        deps.notify({ kind: AgentEventKind.SPOOL_NEAR_FULL, message });
        return;
      }
      case "full": {
        const stats = spool.stats();
        const why =
          event.cause === "disk"
            ? `its disk failed (${event.error?.code ?? "error"}: ${event.error?.message ?? "unknown"}); writing is retried`
            : `it reached its limit (${describeUse(event.bytes, event.limitBytes)})`;
        const message = `spool full: ${why}; new items are held in memory (at most ${stats.heldLimit}), beyond that lost and counted`;
        if (event.cause === "disk") diskFailures.inc({ code: event.error?.code ?? "unknown" });
        logger.error({ err: event.error, spoolBytes: event.bytes, spoolLimitBytes: event.limitBytes }, message);
        deps.notify({ kind: AgentEventKind.SPOOL_FULL, message });
        return;
      }
      case "accepting": {
        const message = `spool accepts items again: ${describeUse(event.bytes, event.limitBytes)}`;
        logger.info({ spoolBytes: event.bytes, spoolLimitBytes: event.limitBytes }, message);
        deps.notify({ kind: AgentEventKind.SPOOL_RECOVERED, message });
        flushLostLog(Date.now(), true);
        return;
      }
      case "rejected":
        rejected.inc({ reason: event.reason });
        lostSinceLog++;
        lostByReason.set(event.reason, (lostByReason.get(event.reason) ?? 0) + 1);
        flushLostLog(Date.now(), false);
        return;
    }
  });

  function flushLostLog(now: number, force: boolean) {
    if (lostSinceLog === 0 || (!force && now - lastLostLog < rejectLogEveryMs)) return;
    logger.error(
      { lost: lostSinceLog, byReason: Object.fromEntries(lostByReason) },
      "spool could not keep items: lost (callmesh_agent_spool_rejected_total)",
    );
    lastLostLog = now;
    lostSinceLog = 0;
    lostByReason.clear();
  }
}

/** "52.1 KiB of 64 KiB (81%)". */
export function describeUse(bytes: number, limitBytes: number): string {
  return `${formatBytes(bytes)} of ${formatBytes(limitBytes)} (${Math.floor((bytes / limitBytes) * 100)}%)`;
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}
