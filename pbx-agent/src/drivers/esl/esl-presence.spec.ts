import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Presence, PresenceState } from "@callmesh/gen/callmesh/events/v1/presence_pb.js";
import { createLogger } from "@callmesh/platform/logging.js";
import { readEslCapture } from "./esl-capture-fixture.js";
import { createEslSessionNormalizer } from "./esl-normalizer.js";
import { createEslNumberPlan } from "./esl-number-plan.js";
import { createEslPresenceTracker, PRESENCE_EVENTS } from "./esl-presence.js";

const logger = createLogger("esl-presence-spec", "silent");

/** Every Presence a capture's events make, in order. */
function presenceOf(capture: string): { changes: Presence[]; latest: Presence[] } {
  const presence = createEslPresenceTracker({ agentId: "agent-1", plan: createEslNumberPlan({}) });
  const changes: Presence[] = [];
  const normalizer = createEslSessionNormalizer({
    agentId: "agent-1",
    onOutput: () => undefined,
    logger,
    alsoWants: PRESENCE_EVENTS,
    onMessage: (message) => {
      if (message.type !== "event" || !PRESENCE_EVENTS.has(message.event.name)) return;
      const change = presence.handle(message.event);
      if (change !== undefined) changes.push(change);
    },
  });
  normalizer.push(readEslCapture(capture));
  normalizer.end();
  return { changes, latest: presence.list() };
}

const states = (changes: Presence[], extension: string) =>
  changes
    .filter((change) => change.extension === extension)
    .map((change) => [PresenceState[change.state], change.pbxState]);

describe("ESL presence from real captures", () => {
  it("fs-real-18r: 1002 rings, talks, goes idle; 1001's own hold is ON_HOLD then IN_USE", () => {
    const { changes, latest } = presenceOf("fs-real-18r-hold-resume-A.txt");
    assert.deepEqual(states(changes, "1002"), [
      ["RINGING", "progressing"],
      ["IN_USE", "active"],
      ["IDLE", "idle"],
    ]);
    const mine = states(changes, "1001");
    assert.deepEqual(
      mine.filter(([, raw]) => raw === "CHANNEL_HOLD" || raw === "CHANNEL_UNHOLD"),
      [
        ["ON_HOLD", "CHANNEL_HOLD"],
        ["IN_USE", "CHANNEL_UNHOLD"],
      ],
    );
    assert.equal(latest.find((entry) => entry.extension === "1002")?.state, PresenceState.IDLE);
    assert.match(latest.find((entry) => entry.extension === "1002")?.device ?? "", /^sofia\/internal\/1002@/);
  });

  it("a trunk's numbers are not extensions: only phones get presence", () => {
    const { latest } = presenceOf("fs-real-01a-inbound-answered-A.txt");
    assert.deepEqual(
      latest.map((entry) => entry.extension),
      ["1001"],
    );
  });
});
