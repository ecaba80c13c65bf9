import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EslEvent } from "./esl-event.js";
import { createEslFrameParser, type EslFrame } from "./esl-frame-parser.js";
import { decodeEslFrame } from "./esl-message.js";
import type { EslSkipReason } from "./esl-skip-reason.js";

function parse(chunks: (string | Buffer)[]) {
  const frames: EslFrame[] = [];
  const skips: EslSkipReason[] = [];
  const parser = createEslFrameParser({
    onFrame: (frame) => frames.push(frame),
    onSkip: (reason) => skips.push(reason),
  });
  for (const chunk of chunks) parser.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  parser.end();
  return { frames, skips, stats: parser.stats };
}

function plainEvent(headers: string, body = ""): string {
  const text = body === "" ? `${headers}\n\n` : `${headers}\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`;
  return `Content-Length: ${Buffer.byteLength(text)}\nContent-Type: text/event-plain\n\n${text}`;
}

const answer = plainEvent("Event-Name: CHANNEL_ANSWER\nUnique-ID: u-1\nCaller-Caller-ID-Name: Zo%C3%AB%20M%C3%BCller");

describe("ESL framing", () => {
  it("reads header-only frames, bodies by byte length (UTF-8), and an api/response glued to the next frame", () => {
    const { frames, skips } = parse([
      "Content-Type: auth/request\n\n",
      "Content-Type: command/reply\nReply-Text: %2BOK%0A\n\n",
      "Content-Type: api/response\nContent-Length: 4\n\n+OK\n",
      answer,
    ]);
    assert.deepEqual(skips, []);
    assert.deepEqual(
      frames.map((frame) => frame.contentType),
      ["auth/request", "command/reply", "api/response", "text/event-plain"],
    );
    assert.equal(frames[1]?.headers.get("Reply-Text"), "+OK\n");
    assert.equal(frames[2]?.body.toString(), "+OK\n");
    const event = EslEvent.fromPlain(frames[3]?.body.toString("utf8") ?? "");
    assert.equal(event.get("Caller-Caller-ID-Name"), "Zoë Müller");
  });

  it("gives the same frames when cut at every byte, inside UTF-8 sequences too", () => {
    const bytes = Buffer.from(`Content-Type: auth/request\n\n${answer}${answer}`);
    const whole = parse([bytes]).frames;
    const split = parse([...bytes].map((byte) => Buffer.from([byte]))).frames;
    assert.deepEqual(split, whole);
    assert.equal(whole.length, 3);
  });

  it("keeps BACKGROUND_JOB's own Content-Length and body inside the event", () => {
    const job = plainEvent("Event-Name: BACKGROUND_JOB\nJob-UUID: j-1\nJob-Command: originate", "-ERR NO_ANSWER\n");
    const { frames } = parse([job]);
    const event = EslEvent.fromPlain(frames[0]?.body.toString("utf8") ?? "");
    assert.equal(event.get("Job-UUID"), "j-1");
    assert.equal(event.body, "-ERR NO_ANSWER\n");
  });

  it("skips what a client sent (auth, event, bgapi, exit…) and `#` comment lines, without counting them as garbage", () => {
    const { frames, skips, stats } = parse([
      "# source: a capture\nContent-Type: auth/request\n\n",
      "auth ClueCon\n\n",
      "event plain ALL\n\n",
      "bgapi originate {a=1}user/1001 &park()\n\n",
      "exit\n\n",
      answer,
    ]);
    assert.deepEqual(skips, []);
    assert.equal(stats.clientCommands, 4);
    assert.deepEqual(
      frames.map((frame) => frame.contentType),
      ["auth/request", "text/event-plain"],
    );
  });

  it("reads the outbound-mode connect reply: headers only, no Content-Length", () => {
    const { frames } = parse([
      "Event-Name: CHANNEL_DATA\nUnique-ID: u-9\nChannel-Name: sofia/internal/1001%40pbx\n\n",
      answer,
    ]);
    assert.equal(frames[0]?.contentType, "");
    assert.equal(frames[0]?.headers.get("Channel-Name"), "sofia/internal/1001@pbx");
    assert.equal(frames.length, 2);
  });

  it("tolerates CRLF line endings in envelopes", () => {
    const { frames, skips } = parse(["Content-Type: command/reply\r\nReply-Text: +OK accepted\r\n\r\n", answer]);
    assert.deepEqual(skips, []);
    assert.equal(frames[0]?.headers.get("Reply-Text"), "+OK accepted");
  });
});

describe("ESL events", () => {
  it("decodes plain values, keeps `, ' ( )` and `+` raw, lists repeated headers and ARRAY:: values", () => {
    const event = EslEvent.fromPlain(
      [
        "Event-Name: CHANNEL_HANGUP_COMPLETE",
        "Hangup-Cause: NORMAL_CLEARING",
        "Hangup-Cause: NORMAL_CLEARING",
        "variable_DP_MATCH: ARRAY%3A%3A35722555101%7C%3A01",
        "API-Command-Argument: %7Bcrm_id%3Dabc,name%3D'A%20(B)'%7Duser/1001",
        "Caller-Caller-ID-Number: %2B35799123456",
        "Bad-Escape: 100%ZZ%C3",
        "",
      ].join("\n"),
    );
    assert.deepEqual(event.getAll("Hangup-Cause"), ["NORMAL_CLEARING", "NORMAL_CLEARING"]);
    assert.deepEqual(event.getAll("variable_DP_MATCH"), ["35722555101", "01"]);
    assert.equal(event.get("API-Command-Argument"), "{crm_id=abc,name='A (B)'}user/1001");
    assert.equal(event.get("Caller-Caller-ID-Number"), "+35799123456");
    assert.equal(event.get("Bad-Escape"), "100%ZZ\ufffd");
  });

  it("reads event-json: raw values, arrays, _body", () => {
    const body = JSON.stringify({
      "Event-Name": "BACKGROUND_JOB",
      "Job-UUID": "j-2",
      variable_originate_causes: ["a;NONE", "b;LOSE_RACE"],
      "Content-Length": "15",
      _body: "+OK 1234%20ab\n",
    });
    const result = decodeEslFrame(
      { contentType: "text/event-json", headers: new Map(), body: Buffer.from(body) },
      () => true,
    );
    assert.ok(result !== undefined && "message" in result && result.message.type === "event");
    const event = result.message.event;
    assert.equal(event.get("Job-UUID"), "j-2");
    assert.deepEqual(event.getAll("variable_originate_causes"), ["a;NONE", "b;LOSE_RACE"]);
    assert.equal(event.body, "+OK 1234%20ab\n");
  });

  it("does not parse events nobody wants", () => {
    const frame = parse([plainEvent("Event-Name: HEARTBEAT\nUp-Time: 1")]).frames[0];
    assert.ok(frame !== undefined);
    assert.equal(
      decodeEslFrame(frame, (name) => name !== "HEARTBEAT"),
      undefined,
    );
  });
});
