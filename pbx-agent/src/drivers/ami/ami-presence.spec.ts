import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PresenceState } from "@callmesh/gen/callmesh/events/v1/presence_pb.js";
import { AmiMessage } from "./ami-message.js";
import { createNumberPlan } from "./ami-number-plan.js";
import { createAmiPresenceTracker } from "./ami-presence.js";

const event = (pairs: Array<[string, string]>) => AmiMessage.fromPairs(pairs);

describe("AMI presence", () => {
  it("maps ExtensionStatus and DeviceStateChange to one Presence per change, raw state kept", () => {
    const presence = createAmiPresenceTracker({ agentId: "a", plan: createNumberPlan() });
    const ringing = presence.handle(
      event([
        ["Event", "DeviceStateChange"],
        ["Timestamp", "1796124957.527442"],
        ["Device", "PJSIP/1001"],
        ["State", "RINGING"],
      ]),
    );
    assert.equal(ringing?.state, PresenceState.RINGING);
    assert.equal(ringing?.pbxState, "RINGING");
    assert.equal(ringing?.device, "PJSIP/1001");
    assert.equal(ringing?.changedAt?.seconds, 1796124957n);
    const same = presence.handle(
      event([
        ["Event", "ExtensionStatus"],
        ["Exten", "1001"],
        ["Context", "ext-local"],
        ["Hint", "PJSIP/1001"],
        ["Status", "8"],
        ["StatusText", "Ringing"],
      ]),
    );
    assert.equal(same, undefined, "the same change told twice");
    const hold = presence.handle(
      event([
        ["Event", "ExtensionStatus"],
        ["Exten", "1001"],
        ["Hint", "PJSIP/1001&Custom:DND1001"],
        ["Status", "16"],
        ["StatusText", "Hold"],
      ]),
    );
    assert.equal(hold?.state, PresenceState.ON_HOLD);
    assert.equal(hold?.pbxState, "Hold");
    for (const [state, expected] of [
      ["UNAVAILABLE", PresenceState.UNAVAILABLE],
      ["NOT_INUSE", PresenceState.IDLE],
      ["INUSE", PresenceState.IN_USE],
    ] as const) {
      const changed = presence.handle(
        event([
          ["Event", "DeviceStateChange"],
          ["Device", "PJSIP/1001"],
          ["State", state],
        ]),
      );
      assert.equal(changed?.state, expected, state);
    }
    assert.equal(
      presence.handle(
        event([
          ["Event", "DeviceStateChange"],
          ["Device", "PJSIP/provider"],
          ["State", "INUSE"],
        ]),
      ),
      undefined,
      "trunks have no presence",
    );
    assert.deepEqual(
      presence.list().map((entry) => [entry.extension, entry.state]),
      [["1001", PresenceState.IN_USE]],
    );
  });
});
