/** Calls `tick` every `intervalMs` between start() and stop(), without keeping the process alive. */
export interface IntervalTicker {
  start(): void;
  stop(): void;
}

export function createIntervalTicker(intervalMs: number, tick: () => void): IntervalTicker {
  let timer: NodeJS.Timeout | undefined;
  return {
    start() {
      timer ??= setInterval(tick, intervalMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
