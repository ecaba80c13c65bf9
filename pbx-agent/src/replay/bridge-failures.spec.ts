// The failures users report most against other CRM–PBX bridges (issue 4, item 6), each
// shown absent on both drivers, through the path users debug with: `callmesh-agent replay`.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { type ReplayDriver, replayCapture } from "./replay.js";

interface EventJson {
  callId: string;
  sequence: number;
  kind: string;
  extension?: string;
  transferredTo?: string;
}
interface CdrJson {
  callId: string;
  direction: string;
  status: string;
  answeredBy?: string;
  transferredTo?: string;
  rungExtensions?: string[];
  missedExtensions?: string[];
  legs?: unknown[];
}

const fixtures = (driver: ReplayDriver) => new URL(`../drivers/${driver}/fixtures/`, import.meta.url);

function replay(driver: ReplayDriver, file: string) {
  const lines: string[] = [];
  replayCapture(readFileSync(new URL(file, fixtures(driver))), {
    driver,
    agentId: "bridge-failures",
    write: (line) => lines.push(line),
  });
  const parsed = lines.map((line) => JSON.parse(line) as { event?: EventJson; cdr?: CdrJson });
  return {
    events: parsed.flatMap((line) => (line.event ? [line.event] : [])),
    cdrs: parsed.flatMap((line) => (line.cdr ? [line.cdr] : [])),
  };
}

const kindsOf = (events: EventJson[], callId: string) =>
  events.filter((event) => event.callId === callId).map((event) => event.kind.replace("CALL_EVENT_KIND_", ""));

/** The same shape, captured on each PBX. */
const both = (ami: string, esl: string): [ReplayDriver, string][] => [
  ["ami", ami],
  ["esl", esl],
];

describe("the failures other bridges have, absent on Asterisk and FreeSWITCH", () => {
  it("the caller hangs up during early media, while the outbound leg rings: one end event, one CDR", () => {
    for (const [driver, file] of both(
      "ami-hand-outbound-early-media-caller-hangup.txt",
      "esl-hand-caller-cancel-early-media-outbound.txt",
    )) {
      const { events, cdrs } = replay(driver, file);
      assert.equal(cdrs.length, 1, `${driver}: one CDR`);
      const kinds = kindsOf(events, cdrs[0]?.callId ?? "");
      assert.equal(kinds.filter((kind) => kind === "HANGUP").length, 1, `${driver}: ${kinds}`);
      assert.equal(kinds.at(-1), "HANGUP");
      assert.ok(!kinds.includes("ANSWERED"), `${driver}: early media is not an answer`);
      assert.equal(cdrs[0]?.status, "CALL_STATUS_CANCELLED", driver);
    }
  });

  it("the caller gives up while the extension rings: one end event, a cancelled CDR", () => {
    for (const [driver, file] of both(
      "ast-real-05e-inbound-caller-cancel-A.txt",
      "fs-real-05e-inbound-caller-cancel-A.txt",
    )) {
      const { events, cdrs } = replay(driver, file);
      assert.equal(cdrs.length, 1, driver);
      assert.deepEqual(kindsOf(events, cdrs[0]?.callId ?? ""), ["RINGING", "HANGUP"], driver);
      assert.equal(cdrs[0]?.status, "CALL_STATUS_CANCELLED", driver);
    }
  });

  it("an attended transfer does not end the call, and the CDR names the agent who answered and the one who took it", () => {
    for (const [driver, file] of both("ast-real-15o-attended-transfer-A.txt", "fs-real-15o-attended-transfer-A.txt")) {
      const { events, cdrs } = replay(driver, file);
      assert.equal(cdrs.length, 1, `${driver}: the consultation is not a second customer call`);
      const cdr = cdrs[0];
      const kinds = kindsOf(events, cdr?.callId ?? "");
      assert.equal(kinds.filter((kind) => kind === "HANGUP").length, 1, `${driver}: ${kinds}`);
      assert.ok(kinds.indexOf("TRANSFERRED") < kinds.indexOf("HANGUP"), `${driver}: ${kinds}`);
      assert.equal(cdr?.answeredBy, "1001", driver);
      assert.equal(cdr?.transferredTo, "1003", driver);
    }
  });

  it("a ring-all group is one call credited to who answered, the others missed once each", () => {
    for (const [driver, file] of both(
      "ast-real-11k-ringgroup-answered-A.txt",
      "fs-real-11k-ringgroup-answered-A.txt",
    )) {
      const { cdrs } = replay(driver, file);
      assert.equal(cdrs.length, 1, `${driver}: not one missed call per member`);
      assert.equal(cdrs[0]?.answeredBy, "1007", driver);
      assert.equal(cdrs[0]?.rungExtensions?.length, 12, driver);
      assert.equal(cdrs[0]?.missedExtensions?.length, 11, driver);
      assert.ok(!cdrs[0]?.missedExtensions?.includes("1007"), driver);
    }
    const { cdrs } = replay("ami", "ami-hand-queue-ringall-answered.txt");
    assert.equal(cdrs.length, 1, "ring-all queue: one call");
    assert.equal(cdrs[0]?.answeredBy, "1003");
  });

  it("outbound calls, placed from a phone or by click-to-call, are labelled outbound", () => {
    for (const [driver, file] of [
      ...both("ast-real-06f-outbound-answered-A.txt", "fs-real-06f-outbound-answered-A.txt"),
      ...both("ast-real-16p-click-to-call-A.txt", "fs-real-16p-click-to-call-A.txt"),
    ]) {
      const { cdrs } = replay(driver, file);
      assert.deepEqual(
        cdrs.map((cdr) => cdr.direction),
        ["CALL_DIRECTION_OUTBOUND"],
        `${driver} ${file}`,
      );
    }
  });

  it("one CDR per conversation, its legs nested inside, not one per leg", () => {
    for (const [driver, file] of [
      ...both("ast-real-11k-ringgroup-answered-A.txt", "fs-real-11k-ringgroup-answered-A.txt"),
      ...both("ast-real-16p-click-to-call-A.txt", "fs-real-16p-click-to-call-A.txt"),
    ]) {
      const { cdrs } = replay(driver, file);
      assert.equal(cdrs.length, 1, `${driver} ${file}`);
      assert.ok((cdrs[0]?.legs?.length ?? 0) >= 2, `${driver} ${file}: legs nested`);
    }
  });

  it("on every fixture of both drivers: sequence 1…n, ringing before answered, exactly one final hangup and one CDR per call", () => {
    let calls = 0;
    for (const driver of ["ami", "esl"] as const) {
      for (const file of readdirSync(fixtures(driver)).filter((name) => name.endsWith(".txt"))) {
        const { events, cdrs } = replay(driver, file);
        for (const cdr of cdrs) {
          calls++;
          const mine = events.filter((event) => event.callId === cdr.callId);
          const where = `${driver} ${file} ${cdr.callId}`;
          assert.deepEqual(
            mine.map((event) => event.sequence),
            mine.map((_, i) => i + 1),
            where,
          );
          const kinds = mine.map((event) => event.kind);
          assert.equal(kinds.filter((kind) => kind === "CALL_EVENT_KIND_HANGUP").length, 1, `${where}: ${kinds}`);
          assert.equal(kinds.at(-1), "CALL_EVENT_KIND_HANGUP", where);
          const answered = kinds.indexOf("CALL_EVENT_KIND_ANSWERED");
          if (answered >= 0)
            assert.ok(kinds.slice(0, answered).includes("CALL_EVENT_KIND_RINGING"), `${where}: ${kinds}`);
          assert.equal(cdrs.filter((other) => other.callId === cdr.callId).length, 1, where);
        }
      }
    }
    assert.ok(calls >= 70, `${calls} calls replayed`); // 72 when written
  });
});
