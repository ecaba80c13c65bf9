import type { Logger } from "@callmesh/platform/logging.js";

/**
 * Listeners of one kind of value, each called in the order added. One that throws is
 * logged at error with `failureMessage` (and `logFields` of the value) and the rest
 * still get the value.
 */
export interface ListenerFanOut<T> {
  add(listener: (value: T) => void): void;
  emit(value: T): void;
}

export interface ListenerFanOutOptions<T> {
  logger: Logger;
  failureMessage: string;
  /** Said about the value beside the error, e.g. `{ kind: output.kind }`. */
  logFields?: (value: T) => Record<string, unknown>;
}

export function createListenerFanOut<T>(options: ListenerFanOutOptions<T>): ListenerFanOut<T> {
  const listeners: ((value: T) => void)[] = [];
  const { logger, failureMessage, logFields } = options;
  return {
    add(listener) {
      listeners.push(listener);
    },
    emit(value) {
      for (const listener of listeners) {
        try {
          listener(value);
        } catch (error) {
          logger.error({ err: error, ...logFields?.(value) }, failureMessage);
        }
      }
    },
  };
}
