import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { pino } from "pino";
import { createListenerFanOut } from "./listener-fan-out.js";

describe("listener fan-out", () => {
  it("calls every listener in order; one that throws is logged and the rest still run", () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    const fanOut = createListenerFanOut<{ kind: string }>({
      logger: pino(stream),
      failureMessage: "output listener failed",
      logFields: (value) => ({ kind: value.kind }),
    });
    const heard: string[] = [];
    fanOut.add((value) => heard.push(`a:${value.kind}`));
    fanOut.add(() => {
      throw new Error("listener bug");
    });
    fanOut.add((value) => heard.push(`c:${value.kind}`));
    fanOut.emit({ kind: "cdr" });
    assert.deepEqual(heard, ["a:cdr", "c:cdr"]);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.msg, "output listener failed");
    assert.equal(lines[0]?.kind, "cdr");
    assert.equal((lines[0]?.err as { message?: string } | undefined)?.message, "listener bug");
  });
});
