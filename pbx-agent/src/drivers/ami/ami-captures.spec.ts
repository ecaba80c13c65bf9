import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { describe, it } from "node:test";
import { CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { Registry } from "@callmesh/platform/metrics.js";
import { INPUT_SKIPPED_METRIC } from "../../normalize/input-skips.js";
import type { CallOutput } from "../../ports/pbx-driver.js";
import { randomChunks, readCapture, readFixtureJson } from "./ami-capture-fixture.js";
import { createAmiNormalizer } from "./ami-normalizer.js";
import { assertCallMatches, assertWellFormed, type ExpectedCall, eventKinds } from "./ami-output-assertions.js";

/**
 * Every capture in fixtures/ with a `<name>.expected.json` beside it — the other real
 * AMI captures (Asterisk 11 to 16, chan_sip and PJSIP) and our hand-written transcripts
 * of the shapes the captures lack — replays to exactly the calls written there.
 */
interface Expectation {
  capture: string;
  calls: ExpectedCall[];
  /** Calls the stream ended in the middle of: no HANGUP, no Cdr. */
  unfinished_calls: number;
}

const FIXTURES = new URL("./fixtures/", import.meta.url);
const expectations = readdirSync(FIXTURES)
  .filter((name) => name.endsWith(".expected.json"))
  .map((name) => readFixtureJson(name) as Expectation);

async function replay(bytes: Uint8Array[]): Promise<{ outputs: CallOutput[]; unfinished: number }> {
  const outputs: CallOutput[] = [];
  const metrics = new Registry();
  const normalizer = createAmiNormalizer({ agentId: "agent-7", onOutput: (output) => outputs.push(output), metrics });
  for (const chunk of bytes) normalizer.push(chunk);
  normalizer.end();
  const metric = (await metrics.getMetricsAsJSON()).find((entry) => entry.name === INPUT_SKIPPED_METRIC);
  const unfinished = metric?.values.find((value) => value.labels.reason === "call_unfinished")?.value ?? 0;
  return { outputs, unfinished };
}

describe("AMI captures replay to their expected calls", { timeout: 20_000 }, () => {
  assert.ok(expectations.length >= 31, "the real ami-* captures and the hand-written transcripts");
  for (const expectation of expectations) {
    it(expectation.capture, async () => {
      const capture = readCapture(expectation.capture);
      const { outputs, unfinished } = await replay([capture]);
      assertWellFormed(outputs, "agent-7");
      const cdrs = outputs.flatMap((output) => (output.kind === "cdr" ? [output.cdr] : []));
      assert.equal(cdrs.length, expectation.calls.length, "one Cdr per real call");
      expectation.calls.forEach((want, index) => {
        const cdr = cdrs[index];
        assert.ok(cdr);
        const hangup = outputs.find(
          (output) =>
            output.kind === "event" && output.event.callId === cdr.callId && output.event.kind === CallEventKind.HANGUP,
        );
        assertCallMatches(cdr, hangup?.kind === "event" ? hangup.event : undefined, want);
        if (want.events !== undefined) assert.deepEqual(eventKinds(outputs, cdr.callId), want.events, "events");
      });
      assert.equal(unfinished, expectation.unfinished_calls, "calls the stream cut off");
      assert.deepEqual((await replay(randomChunks(capture, 7, 50))).outputs, outputs, "same output in small chunks");
    });
  }
});
