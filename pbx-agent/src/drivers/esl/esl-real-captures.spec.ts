import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PbxKind } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import {
  cdrsOf,
  eventInvariantProblems,
  expectedOutcome,
  outcomeOf,
  randomChunks,
  readEslCapture,
  readEslFixtureJson,
  replayEsl,
} from "./esl-capture-fixture.js";

interface ExpectedCapture {
  file: string;
  calls: Record<string, unknown>[];
}

const expected = readEslFixtureJson("expected-fs-real-A.json") as { captures: ExpectedCapture[] };

describe("real FreeSWITCH 1.10 captures (expected-fs-real-A.json)", () => {
  for (const capture of expected.captures) {
    it(`${capture.file}: exactly the expected calls, field by field`, () => {
      const outputs = replayEsl([readEslCapture(capture.file)]);
      const cdrs = cdrsOf(outputs);
      assert.equal(cdrs.length, capture.calls.length, "one Cdr per real call");
      cdrs.forEach((cdr, index) => {
        assert.deepEqual(outcomeOf(cdr), expectedOutcome(capture.calls[index] ?? {}));
        assert.equal(cdr.pbxKind, PbxKind.FREESWITCH);
        assert.ok(cdr.legs.length >= 1, "legs nested in the Cdr");
      });
      assert.deepEqual(eventInvariantProblems(outputs), []);
    });
  }

  it("gives the same output whatever the chunking (cut inside headers, bodies, UTF-8)", () => {
    for (const file of ["fs-real-01a-inbound-answered-A.txt", "fs-real-16p-click-to-call-A-json.txt"]) {
      const bytes = readEslCapture(file);
      const whole = replayEsl([bytes]);
      for (const seed of [1, 7, 42]) {
        assert.deepEqual(replayEsl(randomChunks(bytes, seed, 700)), whole, `${file} seed ${seed}`);
      }
    }
  });

  it("replays a capture saved with CRLF line endings to the same output", () => {
    const bytes = readEslCapture("fs-real-12l-queue-answered-A.txt");
    const crlf = Buffer.from(bytes.toString("latin1").replaceAll("\n", "\r\n"), "latin1");
    assert.deepEqual(replayEsl(randomChunks(crlf, 3, 5000)), replayEsl([bytes]));
  });
});
