import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { playEvents, type TimedEvent } from "./play-events.js";

const event = (atUs: number): TimedEvent => ({ atUs });
const CALL = [event(0), event(10), event(1_000_000), event(2_000_000)];

describe("play-events", () => {
  it("plays the recorded gaps scaled, batching events due together", async () => {
    const times: number[] = [];
    const batches: number[] = [];
    const start = performance.now();
    await playEvents(CALL, {
      timeScale: 0.05,
      signal: new AbortController().signal,
      emit: async (batch) => {
        times.push(performance.now() - start);
        batches.push(batch.length);
      },
    });
    assert.deepEqual(batches, [2, 1, 1]);
    assert.ok((times[1] ?? 0) >= 49 && (times[2] ?? 0) >= 99 && (times[2] ?? 0) < 400, `times ${times}`);
  });

  it("does not wait with timeScale 0", async () => {
    const start = performance.now();
    let count = 0;
    await playEvents(CALL, {
      timeScale: 0,
      signal: new AbortController().signal,
      emit: async (batch) => {
        count += batch.length;
      },
    });
    assert.equal(count, 4);
    assert.ok(performance.now() - start < 50);
  });

  it("stops when aborted", async () => {
    const abort = new AbortController();
    let count = 0;
    const played = playEvents(CALL, {
      timeScale: 1,
      signal: abort.signal,
      emit: async (batch) => {
        count += batch.length;
      },
    });
    setTimeout(() => abort.abort(), 20);
    await played;
    assert.equal(count, 2);
  });
});
