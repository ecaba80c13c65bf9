import { setTimeout as sleep } from "node:timers/promises";

/** Anything played at a recorded instant. */
export interface TimedEvent {
  /** Recorded (or rendered) time of the event in µs. */
  readonly atUs: number;
}

export interface PlayEventsOptions<T extends TimedEvent> {
  /** Recorded gaps are multiplied by this: 1 real time, 0.05 twenty times faster, 0 no waiting. */
  readonly timeScale: number;
  /** Stops the call between two events (the PBX went away); the promise then resolves early. */
  readonly signal: AbortSignal;
  /** Writes events that are due together; resolves once they are written. */
  readonly emit: (events: readonly T[]) => Promise<void>;
}

/**
 * Plays events with the gaps between their `Timestamp`s, scaled. Waits are measured from the start,
 * so timer lateness does not add up over a call; events due at the same moment go out as one write.
 */
export async function playEvents<T extends TimedEvent>(
  events: readonly T[],
  options: PlayEventsOptions<T>,
): Promise<void> {
  const firstUs = events[0]?.atUs ?? 0;
  const dueMs = (event: T) => ((event.atUs - firstUs) / 1000) * options.timeScale;
  const startMs = performance.now();
  const writes: Promise<void>[] = [];
  let next = 0;
  while (next < events.length && !options.signal.aborted) {
    const first = events[next];
    if (!first) break;
    const waitMs = startMs + dueMs(first) - performance.now();
    if (waitMs >= 1) {
      try {
        await sleep(waitMs, undefined, { signal: options.signal });
      } catch {
        break;
      }
    }
    const elapsedMs = performance.now() - startMs;
    const batch: T[] = [];
    for (let event = events[next]; event && dueMs(event) <= elapsedMs + 1; event = events[++next]) batch.push(event);
    if (batch.length > 0) writes.push(options.emit(batch));
  }
  await Promise.all(writes);
}
