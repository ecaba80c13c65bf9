import type { Presence } from "@callmesh/gen/callmesh/events/v1/presence_pb.js";
import { Counter, Gauge, type Registry } from "@callmesh/platform/metrics.js";
import { GatewayError } from "./errors.js";

interface Watcher {
  readonly tenantId: string;
  /** Undefined: every extension. */
  readonly extensions: ReadonlySet<string> | undefined;
  push(presence: Presence): void;
}

/**
 * Hands each presence change an agent reports to the watchers of its tenant, in memory.
 * Each watcher has a bounded queue: one that cannot keep up is dropped with
 * RESOURCE_EXHAUSTED rather than holding the gateway's memory.
 */
export function createPresenceFanout(options: { queueLimit: number; metrics?: Registry }) {
  const watchers = new Set<Watcher>();
  const registers = options.metrics ? [options.metrics] : [];
  const dropped = new Counter({
    name: "callmesh_gateway_presence_watchers_dropped_total",
    help: "WatchPresence clients dropped for falling behind their queue",
    registers,
  });
  new Gauge({
    name: "callmesh_gateway_presence_watchers",
    help: "Open WatchPresence streams",
    registers,
    collect() {
      this.set(watchers.size);
    },
  });

  return {
    /** Takes a presence already stamped with the tenant and agent of the stream. */
    publish(presence: Presence): void {
      for (const watcher of watchers) {
        if (watcher.tenantId !== presence.tenantId) continue;
        if (watcher.extensions && !watcher.extensions.has(presence.extension)) continue;
        watcher.push(presence);
      }
    },

    /**
     * The changes from now on, until `signal` aborts (the iteration then ends) or the watcher
     * falls `queueLimit` changes behind (it then throws). Registered at once, before the
     * first `next()`, so that nothing between a snapshot and the first read is missed.
     */
    watch(tenantId: string, extensions: readonly string[], signal: AbortSignal): AsyncGenerator<Presence, void> {
      const queue: Presence[] = [];
      let wake: (() => void) | undefined;
      let failure: GatewayError | undefined;
      const watcher: Watcher = {
        tenantId,
        extensions: extensions.length > 0 ? new Set(extensions) : undefined,
        push(presence) {
          if (queue.length >= options.queueLimit) {
            failure = new GatewayError(
              "resource_exhausted",
              "watcher_too_slow",
              `the client fell ${options.queueLimit} presence changes behind; watch again`,
            );
            queue.length = 0;
            watchers.delete(watcher);
            dropped.inc();
          } else queue.push(presence);
          wake?.();
        },
      };
      const stop = () => {
        watchers.delete(watcher);
        wake?.();
      };
      watchers.add(watcher);
      signal.addEventListener("abort", stop, { once: true });

      return (async function* () {
        try {
          for (;;) {
            if (failure) throw failure;
            if (signal.aborted) return;
            const next = queue.shift();
            if (next) {
              yield next;
              continue;
            }
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = undefined;
          }
        } finally {
          stop();
          signal.removeEventListener("abort", stop);
        }
      })();
    },

    get watcherCount(): number {
      return watchers.size;
    },
  };
}

export type PresenceFanout = ReturnType<typeof createPresenceFanout>;
