import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { PresenceSchema, PresenceState } from "@callmesh/gen/callmesh/events/v1/presence_pb.js";
import { GatewayError } from "./errors.js";
import { createPresenceFanout } from "./presence-fanout.js";

const presence = (tenantId: string, extension: string, state = PresenceState.IDLE) =>
  create(PresenceSchema, { tenantId, agentId: "pbx", extension, state });

describe("presence fan-out", () => {
  it("hands each change to the watchers of its tenant and extensions, in order", async () => {
    const fanout = createPresenceFanout({ queueLimit: 10 });
    const stop = new AbortController();
    const all = fanout.watch("t1", [], stop.signal);
    const only1002 = fanout.watch("t1", ["1002"], stop.signal);
    fanout.publish(presence("t1", "1001", PresenceState.RINGING));
    fanout.publish(presence("t2", "1002"));
    fanout.publish(presence("t1", "1002", PresenceState.IN_USE));
    assert.deepEqual([(await all.next()).value?.extension, (await all.next()).value?.extension], ["1001", "1002"]);
    const mine = await only1002.next();
    assert.equal(mine.value?.state, PresenceState.IN_USE);

    // A change published while a reader waits wakes it.
    const waiting = all.next();
    fanout.publish(presence("t1", "1003"));
    assert.equal((await waiting).value?.extension, "1003");

    stop.abort();
    assert.equal((await all.next()).done, true);
    assert.equal((await only1002.next()).done, true);
    assert.equal(fanout.watcherCount, 0);
  });

  it("drops a watcher that falls behind its queue limit with RESOURCE_EXHAUSTED", async () => {
    const fanout = createPresenceFanout({ queueLimit: 3 });
    const slow = fanout.watch("t1", [], new AbortController().signal);
    const fast = fanout.watch("t1", [], new AbortController().signal);
    for (const extension of ["1001", "1002", "1003"]) {
      fanout.publish(presence("t1", extension));
      await fast.next();
    }
    fanout.publish(presence("t1", "1004")); // the slow one's fourth unread change
    await assert.rejects(
      slow.next(),
      (error: unknown) =>
        error instanceof GatewayError && error.kind === "resource_exhausted" && error.reason === "watcher_too_slow",
    );
    assert.equal(fanout.watcherCount, 1);
    assert.equal((await fast.next()).value?.extension, "1004");
  });

  it("forgets a watcher whose client went away before it read anything", () => {
    const fanout = createPresenceFanout({ queueLimit: 3 });
    const gone = new AbortController();
    fanout.watch("t1", [], gone.signal);
    gone.abort();
    assert.equal(fanout.watcherCount, 0);
  });
});
