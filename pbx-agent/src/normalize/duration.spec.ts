import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { secondsBetween } from "./duration.js";

describe("call durations", () => {
  it("count whole seconds to the nearest, and nothing for reversed times", () => {
    assert.equal(secondsBetween(1_000_000, 3_499_999), 2);
    assert.equal(secondsBetween(1_000_000, 3_500_000), 3, "15o: 13.53 s of talk is 14 s");
    assert.equal(secondsBetween(5, 1), 0);
  });
});
