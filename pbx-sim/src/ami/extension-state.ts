import type { ExtensionRegistration } from "../shared/extension-directory.js";

/** What an ExtensionState action answers for one extension. */
export interface ExtensionStatus {
  readonly hint: string;
  readonly status: number;
  readonly statusText: string;
}

export interface ExtensionStates {
  /** Follows a `DeviceStateChange` the PBX emitted (`Device: PJSIP/1001`, `State: RINGING`). */
  observeDeviceState(device: string, state: string): void;
  status(exten: string, context: string): ExtensionStatus;
  /** Every extension with a hint, in its hint context (`ext-local`), as ExtensionStateList lists them. */
  list(): Array<ExtensionStatus & { readonly exten: string; readonly context: string }>;
}

// Hints live in ext-local; from-internal includes it (FreePBX layout of the recorded PBX).
const HINT_CONTEXTS = new Set(["ext-local", "from-internal"]);

// main/extension_state.c ast_devstate_to_extenstate and extension_state_mappings.
const DEVICE_TO_EXTENSION: Readonly<Record<string, number>> = {
  NOT_INUSE: 0,
  UNKNOWN: 0,
  INUSE: 1,
  BUSY: 2,
  UNAVAILABLE: 4,
  INVALID: 4,
  RINGING: 8,
  RINGINUSE: 9,
  ONHOLD: 16,
};
const STATUS_TEXT: Readonly<Record<number, string>> = {
  0: "Idle",
  1: "InUse",
  2: "Busy",
  4: "Unavailable",
  8: "Ringing",
  9: "InUse&Ringing",
  16: "Hold",
  17: "InUse&Hold",
};

/**
 * Extension states as Asterisk's hints report them: a registered phone is Idle until played calls
 * change its device state, an unregistered one Unavailable, an unknown extension has no hint (-1).
 */
export function createExtensionStates(extensions: Readonly<Record<string, ExtensionRegistration>>): ExtensionStates {
  const deviceStates = new Map<string, string>();
  const states: ExtensionStates = {
    observeDeviceState(device, state) {
      const extension = /^PJSIP\/(.+)$/.exec(device)?.[1];
      if (extension !== undefined && Object.hasOwn(extensions, extension)) deviceStates.set(extension, state);
    },
    status(exten, context) {
      const registration = Object.hasOwn(extensions, exten) ? extensions[exten] : undefined;
      if (registration === undefined || !HINT_CONTEXTS.has(context)) {
        return { hint: "", status: -1, statusText: "Unknown" };
      }
      const status =
        registration === "unregistered" ? 4 : (DEVICE_TO_EXTENSION[deviceStates.get(exten) ?? "NOT_INUSE"] ?? 0);
      return { hint: `PJSIP/${exten}`, status, statusText: STATUS_TEXT[status] ?? "Unknown" };
    },
    list: () =>
      Object.keys(extensions).map((exten) => ({ exten, context: "ext-local", ...states.status(exten, "ext-local") })),
  };
  return states;
}
