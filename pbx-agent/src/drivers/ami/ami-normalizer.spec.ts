import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { Registry } from "@callmesh/platform/metrics.js";
import { pino } from "pino";
import { INPUT_SKIPPED_METRIC } from "../../normalize/input-skips.js";
import type { CallOutput } from "../../ports/pbx-driver.js";
import { randomChunks, readCapture, readFixtureJson } from "./ami-capture-fixture.js";
import { createAmiNormalizer } from "./ami-normalizer.js";
import { assertWellFormed } from "./ami-output-assertions.js";

const expected = readFixtureJson("expected-ast-real-A.json") as { captures: { file: string }[] };

function memoryLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: pino({ level: "warn" }, stream), lines };
}

function normalize(chunks: Iterable<Uint8Array>, extra: { metrics?: Registry; logger?: pino.Logger } = {}) {
  const outputs: CallOutput[] = [];
  const normalizer = createAmiNormalizer({ agentId: "agent-7", onOutput: (output) => outputs.push(output), ...extra });
  for (const chunk of chunks) normalizer.push(chunk);
  normalizer.end();
  return outputs;
}

async function skippedByReason(registry: Registry): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((entry) => entry.name === INPUT_SKIPPED_METRIC);
  const byReason: Record<string, number> = {};
  for (const value of metric?.values ?? []) {
    assert.equal(value.labels.driver, "ami");
    byReason[String(value.labels.reason)] = value.value;
  }
  return byReason;
}

const bytes = (text: string) => Buffer.from(text.replaceAll("\n", "\r\n"));

describe("AMI normalizer", { timeout: 20_000 }, () => {
  it("gives the same output for every capture whatever the chunking, and twice in a row", () => {
    for (const { file } of expected.captures) {
      const capture = readCapture(file);
      const whole = normalize([capture]);
      assertWellFormed(whole, "agent-7");
      assert.deepEqual(normalize(randomChunks(capture, file.length, 97)), whole, file);
      assert.deepEqual(normalize([capture]), whole, `${file}: deterministic`);
    }
  });

  it("reads the file as captured: '#' header lines are the fixture reader's job, the banner is a line", () => {
    const outputs = normalize([readCapture("ast-real-09i-internal-answered-A.txt")]);
    assert.equal(outputs.filter((output) => output.kind === "cdr").length, 1);
  });

  it("skips the client's Action blocks interleaved in a capture", () => {
    const registry = new Registry();
    // panoramisk's Asterisk 11 capture starts with the Originate action the client sent.
    const outputs = normalize([readCapture("ami-legacy-ast11-originate-local-click2call-full.txt")], {
      metrics: registry,
    });
    assert.equal(outputs.filter((output) => output.kind === "cdr").length, 1);
    return skippedByReason(registry).then((byReason) => assert.equal(byReason.malformed_block, undefined));
  });

  describe("garbage is logged, counted by reason, skipped, and the next good event still works", () => {
    const call = readCapture("ast-real-09i-internal-answered-A.txt");
    const clean = normalize([call]);

    const cases: [string, Uint8Array[], string][] = [
      ["a 1 MB line", [bytes(`Event: VarSet\nValue: ${"x".repeat(1024 * 1024 + 1)}\n\n`)], "oversized_line"],
      [
        "binary bytes",
        [Buffer.from(Array.from({ length: 2048 }, (_, index) => (index * 131 + 7) % 256)), bytes("\n\n")],
        "malformed_line",
      ],
      [
        "an event without Linkedid",
        [bytes("Event: Hangup\nChannel: PJSIP/1001-000000ff\nUniqueid: 1.255\nCause: 16\n\n")],
        "unknown_call",
      ],
      ["an unknown event", [bytes("Event: FrobnicateStart\nLinkedid: 1.1\n\n")], "unknown_event"],
      ["a block that is neither event nor response", [bytes("Foo: bar\n\n")], "malformed_block"],
    ];
    for (const [name, garbage, reason] of cases) {
      it(name, async () => {
        const registry = new Registry();
        const { logger, lines } = memoryLogger();
        const outputs = normalize([...garbage, call], { metrics: registry, logger });
        assert.deepEqual(outputs, clean, "the call after the garbage is unaffected");
        assert.ok(((await skippedByReason(registry))[reason] ?? 0) >= 1, `${reason} counted`);
        assert.ok(
          lines.some((line) => line.reason === reason && line.level === 40),
          `${reason} logged at warn`,
        );
      });
    }

    it("a stream truncated mid-call: what ended is emitted, nothing is invented", async () => {
      const registry = new Registry();
      const first = readCapture("ast-real-01a-inbound-answered-A.txt");
      const text = call.toString("latin1");
      const cut = text.indexOf("Event: Hangup");
      const outputs = normalize([first, Buffer.from(text.slice(0, cut + 20), "latin1")], { metrics: registry });
      const complete = normalize([first]);
      const callOf = (output: CallOutput) => (output.kind === "event" ? output.event.callId : output.cdr.callId);
      const firstId = callOf(complete[0] as CallOutput);
      assert.deepEqual(
        outputs.filter((output) => callOf(output) === firstId),
        complete,
        "the first, complete call",
      );
      const rest = outputs.filter((output) => callOf(output) !== firstId);
      assert.ok(rest.length > 0, "the cut call's RINGING and ANSWERED went out");
      assert.ok(
        rest.every((output) => output.kind === "event" && output.event.kind !== CallEventKind.HANGUP),
        "no HANGUP or Cdr for the call the stream cut off",
      );
      const byReason = await skippedByReason(registry);
      assert.equal(byReason.truncated, 1);
      assert.equal(byReason.call_unfinished, 1);
    });

    it("warns once per reason per minute, with the count", () => {
      const { logger, lines } = memoryLogger();
      const garbage = bytes("no colon here\n".repeat(50));
      normalize([garbage, garbage, garbage], { logger });
      const warned = lines.filter((line) => line.reason === "malformed_line");
      assert.equal(warned.length, 1);
      assert.equal(warned[0]?.skipped, 50);
    });
  });

  it("events without Timestamp (timestampevents=no) take the last time seen, deterministically", () => {
    const untimed = Buffer.from(
      readCapture("ast-real-09i-internal-answered-A.txt")
        .toString("latin1")
        .replace(/Timestamp: [0-9.]+\r\n/g, ""),
      "latin1",
    );
    const once = normalize([untimed]);
    assert.deepEqual(normalize(randomChunks(untimed, 5, 300)), once);
    const cdr = once.find((output) => output.kind === "cdr");
    assert.ok(cdr?.kind === "cdr");
    assert.equal(cdr.cdr.startedAt?.seconds, 0n);
    assert.equal(cdr.cdr.answeredBy, "1002");
  });

  it("shares one metric between normalizers on one registry", () => {
    const registry = new Registry();
    normalize([bytes("junk\n\n")], { metrics: registry });
    normalize([bytes("junk\n\n")], { metrics: registry });
    return skippedByReason(registry).then((byReason) => assert.equal(byReason.malformed_line, 2));
  });
});
