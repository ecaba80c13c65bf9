import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "@callmesh/platform/logging.js";
import { startCallLoop } from "./call-loop.js";

const logger = createLogger("pbx-sim-test", "silent");

describe("call-loop", () => {
  it("plays the calls in turn, one at a time, until stopped", async () => {
    const played: string[] = [];
    const tracked: Array<Promise<unknown>> = [];
    const call = (name: string) => async () => {
      played.push(name);
    };
    const loop = startCallLoop({
      intervalMs: 5,
      calls: [call("in"), call("out")],
      signal: new AbortController().signal,
      track: (work) => tracked.push(work),
      logger,
    });
    while (played.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    loop.stop();
    await Promise.all(tracked);
    assert.deepEqual(played.slice(0, 3), ["in", "out", "in"]);
  });

  it("refuses an interval that is not positive", () => {
    const options = { calls: [], signal: new AbortController().signal, track: () => undefined, logger };
    assert.throws(() => startCallLoop({ ...options, intervalMs: 0 }), RangeError);
  });
});
