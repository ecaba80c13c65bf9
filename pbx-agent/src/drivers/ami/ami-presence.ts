import { create } from "@bufbuild/protobuf";
import { type Presence, PresenceSchema, PresenceState } from "@callmesh/gen/callmesh/events/v1/presence_pb.js";
import { timestampFromMicros } from "../../normalize/timestamp.js";
import { parseChannelName } from "./ami-channel-name.js";
import type { AmiMessage } from "./ami-message.js";
import type { NumberPlan } from "./ami-number-plan.js";
import { parseAmiTimestamp } from "./ami-time.js";

/**
 * Extensions' presence from what Asterisk says of them: `ExtensionStatus` (a hint changed;
 * also each item of an `ExtensionStateList`) and `DeviceStateChange` of a phone's device
 * (`PJSIP/1001`). Keeps the latest per extension and reports each change of state once,
 * with the raw state of the report that changed it.
 */
export interface AmiPresenceTracker {
  /** Takes ExtensionStatus and DeviceStateChange; returns the Presence when it changed. */
  handle(message: AmiMessage): Presence | undefined;
  /** The latest presence of every extension seen, by extension. */
  list(): Presence[];
}

/** ExtensionStatus `Status` bits (include/asterisk/pbx.h ast_extension_states). */
const EXTENSION_STATUS: ReadonlyMap<number, PresenceState> = new Map([
  [-2, PresenceState.UNAVAILABLE], // removed
  [-1, PresenceState.UNAVAILABLE], // no such extension or hint
  [0, PresenceState.IDLE],
  [1, PresenceState.IN_USE],
  [2, PresenceState.IN_USE], // busy
  [4, PresenceState.UNAVAILABLE],
  [8, PresenceState.RINGING],
  [9, PresenceState.RINGING], // in use and ringing: a second call rings
  [16, PresenceState.ON_HOLD],
  [17, PresenceState.ON_HOLD],
]);

/** DeviceStateChange `State` (ast_devstate_str). */
const DEVICE_STATE: ReadonlyMap<string, PresenceState> = new Map([
  ["NOT_INUSE", PresenceState.IDLE],
  ["INUSE", PresenceState.IN_USE],
  ["BUSY", PresenceState.IN_USE],
  ["RINGING", PresenceState.RINGING],
  ["RINGINUSE", PresenceState.RINGING],
  ["ONHOLD", PresenceState.ON_HOLD],
  ["UNAVAILABLE", PresenceState.UNAVAILABLE],
  ["INVALID", PresenceState.UNAVAILABLE],
  ["UNKNOWN", PresenceState.UNSPECIFIED],
]);

export function createAmiPresenceTracker(options: {
  agentId: string;
  plan: NumberPlan;
  now?: () => number;
}): AmiPresenceTracker {
  const latest = new Map<string, Presence>();
  const now = options.now ?? Date.now;

  const update = (message: AmiMessage, extension: string, state: PresenceState, pbxState: string, device: string) => {
    const previous = latest.get(extension);
    // ExtensionStatus and DeviceStateChange both report one change ("InUse", "INUSE"): one Presence.
    if (previous !== undefined && previous.state === state) return undefined;
    const atUs = parseAmiTimestamp(message.get("Timestamp")) ?? now() * 1000;
    const presence = create(PresenceSchema, {
      agentId: options.agentId,
      extension,
      state,
      pbxState,
      device: device || previous?.device || "",
      changedAt: timestampFromMicros(atUs),
    });
    latest.set(extension, presence);
    return presence;
  };

  return {
    handle(message) {
      const name = message.event;
      if (name === "ExtensionStatus") {
        const extension = message.get("Exten") ?? "";
        if (!options.plan.isExtension(extension)) return undefined;
        const status = Number(message.get("Status"));
        const state = EXTENSION_STATUS.get(status) ?? PresenceState.UNSPECIFIED;
        const hint = message.get("Hint") ?? "";
        return update(message, extension, state, message.get("StatusText") ?? String(status), hint.split("&")[0] ?? "");
      }
      if (name === "DeviceStateChange") {
        const device = message.get("Device") ?? "";
        const parsed = parseChannelName(device);
        if (parsed.local !== undefined || !options.plan.isExtension(parsed.resource)) return undefined;
        const raw = message.get("State") ?? "";
        return update(message, parsed.resource, DEVICE_STATE.get(raw) ?? PresenceState.UNSPECIFIED, raw, device);
      }
      return undefined;
    },
    list: () => [...latest.values()],
  };
}
