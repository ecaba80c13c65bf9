import type { Logger } from "@callmesh/platform/logging.js";

/** What clients sent a simulator, kept in order for tests, with listeners told of each as it comes. */
export interface ReceivedLog<T> {
  readonly entries: ReadonlyArray<T>;
  /** Listeners run in registration order; one that throws is logged and the others still run. */
  listen(listener: (entry: T) => void): void;
  record(entry: T): void;
}

/** `listenerName` names the listener in logs (`onAction`, `onCommand`). */
export function createReceivedLog<T>(logger: Logger, listenerName: string): ReceivedLog<T> {
  const entries: T[] = [];
  const listeners: Array<(entry: T) => void> = [];
  return {
    entries,
    listen(listener) {
      listeners.push(listener);
    },
    record(entry) {
      entries.push(entry);
      for (const listener of listeners) {
        try {
          listener(entry);
        } catch (error) {
          logger.error({ err: error }, `${listenerName} listener threw`);
        }
      }
    },
  };
}
