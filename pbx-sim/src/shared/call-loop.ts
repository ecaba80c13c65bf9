import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@callmesh/platform/logging.js";

export interface CallLoopOptions {
  /** Time from one call's start to the next one's; a call that outlasts it delays the next. */
  readonly intervalMs: number;
  /** The calls played in turn, first to last, then over again. */
  readonly calls: ReadonlyArray<() => Promise<void>>;
  /** Ends the loop (the simulator closes). */
  readonly signal: AbortSignal;
  /** Keeps the loop so close() can wait for it. */
  readonly track: (work: Promise<unknown>) => void;
  readonly logger: Logger;
}

/** Plays calls in turn every intervalMs, one at a time, until stop() or the signal. */
export function startCallLoop(options: CallLoopOptions): { stop(): void } {
  const { intervalMs, calls } = options;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0)
    throw new RangeError(`intervalMs must be > 0, got ${intervalMs}`);
  const stopping = new AbortController();
  const signal = AbortSignal.any([stopping.signal, options.signal]);
  const loop = async () => {
    for (let turn = 0; !signal.aborted; turn++) {
      const startedAt = performance.now();
      const call = calls[turn % calls.length];
      if (!call) return;
      // A call that outlasts the interval delays the next one: one loop call at a time.
      await call().catch((error: unknown) => options.logger.error({ err: error }, "looped call failed"));
      const waitMs = startedAt + intervalMs - performance.now();
      if (waitMs > 0) await sleep(waitMs, undefined, { signal }).catch(() => undefined);
    }
  };
  options.track(loop());
  return { stop: () => stopping.abort() };
}
