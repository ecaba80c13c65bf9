import { create } from "@bufbuild/protobuf";
import { type Presence, PresenceSchema, PresenceState } from "@callmesh/gen/callmesh/events/v1/presence_pb.js";
import { timestampFromMicros } from "../../normalize/timestamp.js";
import type { EslEvent } from "./esl-event.js";
import { parseChannelName } from "./esl-leg.js";
import type { EslNumberPlan } from "./esl-number-plan.js";

/**
 * Extensions' presence from what FreeSWITCH says of them: `PRESENCE_IN` (mod_sofia and the
 * core's channel presence: `from: 1002@127.0.0.1`, `presence-call-info-state`, `Answer-State`,
 * `status: Registered(UDP)` / `Unregistered`, as in fs-real-18r) and the channel's own hold
 * (`CHANNEL_HOLD` / `CHANNEL_UNHOLD`, which PRESENCE_IN does not report). Keeps the latest per
 * extension and reports each change of state once, with the raw state that changed it.
 */
export interface EslPresenceTracker {
  /** Takes PRESENCE_IN, CHANNEL_HOLD and CHANNEL_UNHOLD; returns the Presence when it changed. */
  handle(event: EslEvent): Presence | undefined;
  /** The latest presence of every extension seen. */
  list(): Presence[];
}

/** The events the presence tracker reads. */
export const PRESENCE_EVENTS: ReadonlySet<string> = new Set(["PRESENCE_IN", "CHANNEL_HOLD", "CHANNEL_UNHOLD"]);

/** `1002@127.0.0.1` → `1002`. */
const userOf = (address: string) => address.split("@")[0] ?? "";

/**
 * A PRESENCE_IN's state. A dialog's `presence-call-info-state` (switch_channel.c): `progressing`
 * / `early` / `ringing` ring the phone when the leg rings it (Presence-Call-Direction outbound)
 * and mean the phone is calling when it places the call; `active`, `confirmed` are a call in
 * progress; `held` is on hold; `idle`, `terminated` end it. Without one, sofia's registration
 * `status`: `Unregistered…` is unavailable, `Registered…` idle.
 */
function stateOfPresenceIn(event: EslEvent): { state: PresenceState; raw: string } {
  const info = (event.get("presence-call-info-state") ?? "").toLowerCase();
  const answer = (event.get("Answer-State") ?? "").toLowerCase();
  const rings = (event.get("Presence-Call-Direction") ?? "") === "outbound";
  switch (info) {
    case "progressing":
    case "early":
    case "ringing":
      return { state: rings && answer !== "answered" ? PresenceState.RINGING : PresenceState.IN_USE, raw: info };
    case "active":
    case "confirmed":
      return { state: PresenceState.IN_USE, raw: info };
    case "held":
    case "hold":
      return { state: PresenceState.ON_HOLD, raw: info };
    case "idle":
    case "terminated":
      return { state: PresenceState.IDLE, raw: info };
  }
  const status = event.get("status") ?? "";
  if (/^unregistered/i.test(status) || (event.get("rpid") ?? "") === "unavailable") {
    return { state: PresenceState.UNAVAILABLE, raw: status || "unavailable" };
  }
  if (/^registered/i.test(status)) return { state: PresenceState.IDLE, raw: status };
  return { state: PresenceState.UNSPECIFIED, raw: info || status };
}

export function createEslPresenceTracker(options: {
  agentId: string;
  plan: EslNumberPlan;
  now?: () => number;
}): EslPresenceTracker {
  const latest = new Map<string, Presence>();
  const now = options.now ?? Date.now;

  const update = (event: EslEvent, extension: string, state: PresenceState, raw: string) => {
    const previous = latest.get(extension);
    // The core sends a PRESENCE_IN for each change of a leg's state: only changes of ours count.
    if (state === PresenceState.UNSPECIFIED || (previous !== undefined && previous.state === state)) return undefined;
    const presence = create(PresenceSchema, {
      agentId: options.agentId,
      extension,
      state,
      pbxState: raw,
      device: event.get("Channel-Name") ?? previous?.device ?? "",
      changedAt: timestampFromMicros(event.micros("Event-Date-Timestamp") ?? now() * 1000),
    });
    latest.set(extension, presence);
    return presence;
  };

  return {
    handle(event) {
      if (event.name === "PRESENCE_IN") {
        const extension = userOf(event.get("from") ?? "");
        if (!options.plan.isExtension(extension)) return undefined;
        const { state, raw } = stateOfPresenceIn(event);
        return update(event, extension, state, raw);
      }
      if (event.name === "CHANNEL_HOLD" || event.name === "CHANNEL_UNHOLD") {
        // A caller's leg has no presence id (fs-real-18r's 1001): its channel names the phone.
        const extension = userOf(
          event.get("Channel-Presence-ID") ??
            event.variable("presence_id") ??
            parseChannelName(event.get("Channel-Name") ?? "").user,
        );
        if (!options.plan.isExtension(extension)) return undefined;
        const held = event.name === "CHANNEL_HOLD";
        return update(event, extension, held ? PresenceState.ON_HOLD : PresenceState.IN_USE, event.name);
      }
      return undefined;
    },
    list: () => [...latest.values()],
  };
}
