import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { describe, it } from "node:test";
import {
  type CallOutcome,
  cdrsOf,
  eventInvariantProblems,
  outcomeOf,
  readEslCapture,
  readEslFixtureJson,
  replayEsl,
} from "./esl-capture-fixture.js";

const FIXTURES = new URL("./fixtures/", import.meta.url);
const expectedFiles = readdirSync(FIXTURES).filter((name) => name.endsWith(".expected.json"));

describe("other ESL captures and hand-written transcripts (<name>.expected.json)", () => {
  it("covers every esl-* and fs-* capture that is not an fs-real one", () => {
    const captures = readdirSync(FIXTURES).filter(
      (name) =>
        (name.startsWith("esl-") || name.startsWith("fs-")) && !name.startsWith("fs-real-") && name.endsWith(".txt"),
    );
    const covered = expectedFiles.map((name) => (readEslFixtureJson(name) as { file: string }).file);
    assert.deepEqual(covered.sort(), captures.sort());
  });

  for (const name of expectedFiles) {
    const expected = readEslFixtureJson(name) as { file: string; note: string; calls: CallOutcome[] };
    it(`${expected.file}: ${expected.note}`, () => {
      const outputs = replayEsl([readEslCapture(expected.file)]);
      assert.deepEqual(cdrsOf(outputs).map(outcomeOf), expected.calls);
      assert.deepEqual(eventInvariantProblems(outputs), []);
    });
  }

  it("hand-written transcripts say so in their first line", () => {
    for (const name of readdirSync(FIXTURES).filter((file) => file.startsWith("esl-hand-") && file.endsWith(".txt"))) {
      assert.match(readEslCapture(name).toString("utf8", 0, 200), /^# hand-written: .*modeled on fs-real-/, name);
    }
  });
});
