import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { eslFixtureUrl } from "./esl-call-templates.js";
import { frameHeader, parseEslCaptureFile } from "./esl-capture-file.js";
import { eventFrame, parsePlainEvent, serializeJsonEvent } from "./esl-event.js";
import { eslUrlDecode, eslUrlEncode } from "./esl-url-codec.js";

const capture = (file: string) => parseEslCaptureFile(readFileSync(eslFixtureUrl(file)));

describe("esl-event", () => {
  it("URL-encodes as FreeSWITCH: , ' ( ) / stay raw, an existing %XX is not encoded twice", () => {
    assert.equal(
      eslUrlEncode("{crm_id=abc,x='A B'}user/1001 &bridge(x)"),
      "%7Bcrm_id%3Dabc,x%3D'A%20B'%7Duser/1001%20%26bridge(x)",
    );
    assert.equal(eslUrlEncode("tone_stream://%(2000,4000)"), "tone_stream%3A//%25(2000,4000)");
    assert.equal(eslUrlEncode("a%3Ab é\r\n"), "a%3Ab%20%C3%A9%0D%0A");
    assert.equal(eslUrlDecode("%2B357%20%C3%A9"), "+357 é");
  });

  for (const file of [
    "fs-real-01a-inbound-answered-A.txt",
    "fs-real-07g-outbound-busy-A.txt",
    "fs-real-16p-click-to-call-A.txt",
    "fs-real-17q-click-to-call-agent-noanswer-A.txt",
  ]) {
    it(`re-serializes every event of ${file} byte for byte`, () => {
      const events = capture(file).frames.filter((frame) => frameHeader(frame, "Content-Type") === "text/event-plain");
      assert.ok(events.length > 20);
      for (const frame of events) assert.equal(eventFrame(parsePlainEvent(frame.body), "plain"), frame.raw);
    });
  }

  it("prints json as the -json capture does: same members in order, values raw, body in _body", () => {
    const plain = capture("fs-real-16p-click-to-call-A.txt").frames;
    const json = capture("fs-real-16p-click-to-call-A-json.txt").frames;
    const keys = (text: string) => [...text.matchAll(/"([^"]+)":(?="|\[)/g)].map((match) => match[1]);
    let compared = 0;
    for (const [index, frame] of plain.entries()) {
      const recorded = json[index];
      if (frameHeader(frame, "Content-Type") !== "text/event-plain" || !recorded) continue;
      const event = parsePlainEvent(frame.body);
      const rendered = serializeJsonEvent(event);
      const recordedEvent = JSON.parse(recorded.body) as Record<string, unknown>;
      if (recordedEvent["Event-Name"] !== event.headers[0]?.[1]) continue;
      if (keys(rendered).join() !== keys(recorded.body).join()) continue;
      compared++;
      // Same shape: arrays where the recording has arrays, strings elsewhere.
      const parsed = JSON.parse(rendered) as Record<string, unknown>;
      for (const [key, value] of Object.entries(recordedEvent)) assert.equal(typeof parsed[key], typeof value, key);
    }
    assert.ok(compared > 40, `only ${compared} frames line up`);
    const job = parsePlainEvent(plain[21]?.body ?? "");
    assert.match(serializeJsonEvent(job), /,"Content-Length":"41","_body":"\+OK [0-9a-f-]{36}\\n"\}$/);
    assert.match(
      serializeJsonEvent(job),
      /"Job-Command-Arg":"\{crm_id=abc123,origination_caller_id_name='Click-to-call'/,
    );
  });
});
