import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rebuiltSequenceBase } from "./rebuilt-sequence.js";

describe("the sequence of a call rebuilt from the PBX alone", () => {
  const startedMs = 1_796_125_061_000;

  it("is 1000 plus the milliseconds since the call began: past anything a run numbering from 1 sent", () => {
    assert.equal(rebuiltSequenceBase(startedMs, startedMs + 4_250), 5_250);
  });

  it("a later rebuild starts past an earlier one's events, as long as that run sent under one a millisecond", () => {
    const first = rebuiltSequenceBase(startedMs, startedMs + 60_000);
    const eventsOfThatRun = 40;
    const second = rebuiltSequenceBase(startedMs, startedMs + 60_000 + 500);
    assert.ok(second > first + eventsOfThatRun);
  });

  it("a start the clock disagrees with gives the floor, and the base stays a uint32", () => {
    assert.equal(rebuiltSequenceBase(startedMs, startedMs - 1), 1000);
    assert.equal(rebuiltSequenceBase(Number.NaN, startedMs), 1000);
    assert.equal(rebuiltSequenceBase(0, startedMs), 1000, "a start decades ago is no start");
    const longest = rebuiltSequenceBase(startedMs, startedMs + 40 * 86_400_000);
    assert.ok(longest > 1000 && longest < 2 ** 32 - 2 ** 20);
  });
});
