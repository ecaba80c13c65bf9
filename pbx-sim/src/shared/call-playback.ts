import { playEvents, type TimedEvent } from "./play-events.js";

/** What a played call needs of its simulator. */
export interface CallPlayback<E extends TimedEvent> {
  /** Multiplies the recorded gaps between events. */
  readonly timeScale: number;
  /** Aborted when the simulator closes: calls stop between two events. */
  readonly signal: AbortSignal;
  /** Writes events to every client that takes them. */
  readonly broadcast: (events: readonly E[]) => Promise<void>;
  /** Tracks calls in flight so close() can wait for them. */
  readonly track: (call: Promise<unknown>) => void;
}

/** Plays a rendered call to the clients, tracked; `intercept` sees each event first and may keep it from them. */
export function playCall<E extends TimedEvent>(
  events: readonly E[],
  playback: CallPlayback<E>,
  intercept?: (event: E) => boolean,
): Promise<void> {
  const call = playEvents(events, {
    timeScale: playback.timeScale,
    signal: playback.signal,
    emit: (batch) => playback.broadcast(intercept ? batch.filter((event) => !intercept(event)) : batch),
  });
  playback.track(call);
  return call;
}
