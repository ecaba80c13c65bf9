import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Counter, Registry } from "@callmesh/platform/metrics.js";
import type { CallOutput } from "../../ports/pbx-driver.js";
import {
  cdrsOf,
  eventInvariantProblems,
  expectedOutcome,
  outcomeOf,
  readEslCapture,
  readEslFixtureJson,
} from "./esl-capture-fixture.js";
import { createEslNormalizer } from "./esl-normalizer.js";
import { INPUT_SKIPPED_METRIC } from "./esl-skip-counter.js";

const CAPTURE = "fs-real-01a-inbound-answered-A.txt";
const expectedCall = expectedOutcome(
  (
    readEslFixtureJson("expected-fs-real-A.json") as { captures: { file: string; calls: Record<string, unknown>[] }[] }
  ).captures.find((capture) => capture.file === CAPTURE)?.calls[0] ?? {},
);

/** The capture's frames (a plain reading of a well-formed capture), so garbage can be put between them. */
function framesOf(bytes: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let pos = 0;
  while (bytes[pos] === 0x23) pos = bytes.indexOf(0x0a, pos) + 1;
  while (pos < bytes.length) {
    const headEnd = bytes.indexOf("\n\n", pos);
    if (headEnd < 0) break;
    const length = /Content-Length: (\d+)/.exec(bytes.toString("latin1", pos, headEnd))?.[1];
    const end = headEnd + 2 + Number(length ?? 0);
    frames.push(bytes.subarray(pos, end));
    pos = end;
  }
  return frames;
}

async function replayWithMetrics(chunks: Uint8Array[]) {
  const registry = new Registry();
  const outputs: CallOutput[] = [];
  const logged: string[] = [];
  const logger = { warn: (fields: { reason: string }) => logged.push(fields.reason), error: () => undefined };
  const normalizer = createEslNormalizer({
    agentId: "agent-test",
    onOutput: (output) => outputs.push(output),
    metrics: registry,
    logger: logger as never,
  });
  for (const chunk of chunks) normalizer.push(chunk);
  normalizer.end();
  const metric = await registry.getSingleMetric(INPUT_SKIPPED_METRIC)?.get();
  const skipped: Record<string, number> = {};
  for (const value of metric?.values ?? []) skipped[String(value.labels.reason)] = value.value;
  return { outputs, skipped, logged };
}

/** Replays the capture with `garbage` inserted before frame `at`, and checks the call survived. */
async function survives(garbage: Buffer | string, at = 40) {
  const frames = framesOf(readEslCapture(CAPTURE));
  const chunks = [...frames.slice(0, at), Buffer.from(garbage), ...frames.slice(at)];
  const result = await replayWithMetrics(chunks);
  assert.deepEqual(cdrsOf(result.outputs).map(outcomeOf), [expectedCall]);
  assert.deepEqual(eventInvariantProblems(result.outputs), []);
  return result;
}

describe("garbage in the ESL stream: logged, counted, skipped; the next good frame works", () => {
  it("splits the capture into frames that replay to the expected call", async () => {
    const frames = framesOf(readEslCapture(CAPTURE));
    assert.ok(frames.length > 50, `${frames.length} frames`);
    const { skipped } = await survives("");
    assert.deepEqual(skipped, {});
  });

  it("a 1 MB header line", async () => {
    const { skipped, logged } = await survives(`X-Junk: ${"a".repeat(1024 * 1024)}\n\n`);
    assert.equal(skipped.oversized, 1);
    assert.ok(logged.includes("oversized"));
  });

  it("a 1 MB line glued to the next frame without a blank line", async () => {
    const { skipped } = await survives(`${"z".repeat(1024 * 1024)}\n`);
    assert.equal(skipped.oversized, 1);
  });

  it("binary bytes", async () => {
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x01, 0x0a, 0x80, 0x81, 0x0a, 0x0a, 0x1b, 0x5b, 0x0a, 0x0a]);
    const { skipped } = await survives(binary);
    assert.ok((skipped.garbage ?? 0) >= 1);
  });

  it("a Content-Length larger than what follows, then the stream continues", async () => {
    const lie = "Content-Length: 90000\nContent-Type: text/event-plain\n\nEvent-Name: HEARTBEAT\nCore-UUID: x\n\n";
    const { skipped } = await survives(lie);
    assert.equal(skipped.content_length_mismatch, 1);
  });

  it("a Content-Length larger than what follows, then the stream ends: the event still counts", async () => {
    const frames = framesOf(readEslCapture(CAPTURE));
    const last = frames.at(-1)?.toString("utf8") ?? "";
    const lying = last.replace(/^Content-Length: \d+/, "Content-Length: 999999");
    const { outputs, skipped } = await replayWithMetrics([...frames.slice(0, -1), Buffer.from(lying)]);
    assert.equal(skipped.content_length_mismatch, 1);
    assert.deepEqual(cdrsOf(outputs).map(outcomeOf), [expectedCall]);
  });

  it("a Content-Length smaller than the event: the tail is skipped, the next frame works", async () => {
    const short =
      "Content-Length: 30\nContent-Type: text/event-plain\n\nEvent-Name: HEARTBEAT\nCore-UUID: x\nUp-Time: 5\nSession-Count: 1\n\n";
    const { skipped } = await survives(short);
    assert.ok((skipped.garbage ?? 0) >= 1);
  });

  it("a Content-Length that is not a number", async () => {
    const { skipped } = await survives("Content-Length: 12abc\nContent-Type: api/response\n\n");
    assert.equal(skipped.bad_content_length, 1);
  });

  it("an unknown event and an unknown frame type", async () => {
    const unknown = "Event-Name: NOT_A_FREESWITCH_EVENT\nUnique-ID: u\n\n";
    const frame = `Content-Length: ${unknown.length}\nContent-Type: text/event-plain\n\n${unknown}Content-Type: text/x-weird\n\n`;
    const { skipped } = await survives(frame);
    assert.equal(skipped.unknown_event, 1);
    assert.equal(skipped.unknown_content_type, 1);
  });

  it("a channel event without Unique-ID", async () => {
    const event = "Event-Name: CHANNEL_ANSWER\nChannel-Name: sofia/internal/1009%40x\n\n";
    const { skipped } = await survives(`Content-Length: ${event.length}\nContent-Type: text/event-plain\n\n${event}`);
    assert.equal(skipped.no_unique_id, 1);
  });

  it("bad JSON in an event-json frame", async () => {
    const { skipped } = await survives('Content-Length: 12\nContent-Type: text/event-json\n\n{"Event-Nam\n');
    assert.equal(skipped.malformed_event, 1);
  });

  it("a truncated stream: counted, no crash, no invented end of call", async () => {
    const bytes = readEslCapture(CAPTURE);
    const cut = bytes.subarray(0, Math.floor(bytes.length / 2));
    const { outputs, skipped } = await replayWithMetrics([cut]);
    assert.equal(skipped.truncated, 1);
    assert.deepEqual(cdrsOf(outputs), []);
  });

  it("shares the metric with the AMI driver on one registry", async () => {
    const registry = new Registry();
    const ami = new Counter({
      name: INPUT_SKIPPED_METRIC,
      help: "x",
      labelNames: ["driver", "reason"],
      registers: [registry],
    });
    ami.inc({ driver: "ami", reason: "garbage" });
    const normalizer = createEslNormalizer({ agentId: "a", onOutput: () => undefined, metrics: registry });
    normalizer.push(Buffer.from("\u0001\u0002 junk\n\n"));
    normalizer.end();
    const values = (await ami.get()).values.map(
      (value) => `${value.labels.driver}/${value.labels.reason}=${value.value}`,
    );
    assert.deepEqual(values.sort(), ["ami/garbage=1", "esl/garbage=1"]);
  });
});
