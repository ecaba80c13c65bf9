import type { Logger } from "@callmesh/platform/logging.js";
import { createListenerFanOut } from "./listener-fan-out.js";

/**
 * Whether a driver is ready (logged in and its PBX version known), following its
 * connection: a lost session makes it not ready at once; a new one makes it ready once
 * the version probe is over, unless that session was lost meanwhile. Listeners hear
 * each change once.
 */
export interface DriverReadiness {
  readonly ready: boolean;
  /** The version the last ready session's probe found, "" before one. */
  readonly pbxVersion: string;
  onChange(listener: (ready: boolean) => void): void;
  /** What the connection reported: logged in (true) or lost (false). */
  connectionChanged(connected: boolean): Promise<void>;
}

export interface DriverReadinessOptions {
  logger: Logger;
  /** The PBX's version, asked of a session just logged in; never rejects (it logs and falls back). */
  probeVersion(): Promise<string>;
}

export function createDriverReadiness(options: DriverReadinessOptions): DriverReadiness {
  const listeners = createListenerFanOut<boolean>({
    logger: options.logger,
    failureMessage: "connection listener failed",
  });
  let ready = false;
  let pbxVersion = "";
  /** Counts connection changes, so that a version probe of a session already lost does not report it up. */
  let session = 0;
  const setReady = (value: boolean): void => {
    if (ready === value) return;
    ready = value;
    listeners.emit(value);
  };
  return {
    get ready() {
      return ready;
    },
    get pbxVersion() {
      return pbxVersion;
    },
    onChange: (listener) => listeners.add(listener),
    async connectionChanged(connected) {
      const current = ++session;
      if (!connected) {
        setReady(false);
        return;
      }
      const version = await options.probeVersion();
      if (current !== session) return;
      pbxVersion = version;
      setReady(true);
    },
  };
}
