import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { CallAllocation, CallValues } from "./call-render.js";
import { renderCall } from "./call-render.js";
import { fixtureUrl } from "./call-templates.js";
import { captureHeader, parseCaptureFile } from "./capture-file.js";
import { type CaptureTemplate, compileCaptureTemplate, type TemplateKind } from "./capture-template.js";

const FIXTURES: ReadonlyArray<readonly [string, TemplateKind]> = [
  ["ast-real-01a-inbound-answered-A.txt", "inbound"],
  ["ast-real-07g-outbound-busy-A.txt", "outbound"],
  ["ast-real-16p-click-to-call-A.txt", "originate"],
  ["ast-real-17q-click-to-call-agent-noanswer-A.txt", "originate"],
];

/** The capture's call events as recorded: the messages after the banner minus preamble and Responses. */
function recordedCallBytes(text: string): string {
  const body = text.slice(text.indexOf("Asterisk Call Manager/"));
  return body
    .split("\r\n\r\n")
    .filter((block) => block.startsWith("Event: ") && !/^Event: (FullyBooted|SuccessfulAuth)\r\n/.test(block))
    .map((block) => `${block}\r\n\r\n`)
    .join("");
}

/** The ids the recording used, so rendering with them must give the recording back. */
function recordedIdentity(template: CaptureTemplate, text: string): { values: CallValues; allocation: CallAllocation } {
  const lowest = (pattern: RegExp, radix: number) =>
    Math.min(...[...text.matchAll(pattern)].map((match) => Number.parseInt(match[1] ?? "", radix)));
  const firstChannel: Record<string, number> = {};
  for (const tech of Object.keys(template.channelSpans)) {
    firstChannel[tech] = lowest(new RegExp(`${tech}/[^\\s,;"<>|]+?-([0-9a-f]{8})`, "g"), 16);
  }
  const uuids = [...new Set(text.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g) ?? [])];
  const { facts } = template;
  const originate = /ActionID: (c2c-\w+)/.exec(text)?.[1];
  const variable = /Variable:? (\w+)=(\w+)/.exec(captureHeader(parseCaptureFile(text), "scenario") ?? "");
  return {
    values: {
      facts: {
        extension: facts.extension,
        extensionName: facts.extensionName,
        callerNumber: facts.callerNumber ?? "",
        callerName: facts.callerName ?? "",
        did: facts.did ?? "",
        destination: facts.destination ?? "",
        callerIdNumber: facts.extension,
        callerIdName: facts.extensionName,
      },
      request: {
        actionId: originate,
        channel: `Local/${facts.extension}@from-internal`,
        context: "from-internal",
        exten: facts.destination,
        callerIdNumber: facts.extension,
        callerIdName: facts.extensionName,
      },
      variables: variable ? [[variable[1] ?? "", variable[2] ?? ""]] : [],
    },
    allocation: {
      shiftUs: 0,
      ringDeltaUs: 0,
      firstUniqueid: lowest(/Uniqueid: \d+\.(\d+)/g, 10),
      firstChannel,
      uuids,
      firstSipCallId: 1,
      bootSec: Number(/LoginTime: (\d+)/.exec(text)?.[1] ?? 0),
    },
  };
}

describe("capture-template", () => {
  for (const [file, kind] of FIXTURES) {
    const text = readFileSync(fixtureUrl(file), "utf8");
    const capture = parseCaptureFile(text);
    const template = compileCaptureTemplate(file, kind, capture);

    it(`${file}: rendered with the recorded values, gives back the recorded bytes`, () => {
      const { values, allocation } = recordedIdentity(template, text);
      const rendered = renderCall(template, values, allocation)
        .map((event) => event.text)
        .join("");
      assert.equal(rendered, recordedCallBytes(text));
    });

    it(`${file}: finds the values its scenario header names, and skips the preamble`, () => {
      const scenario = captureHeader(capture, "scenario") ?? "";
      const { facts } = template;
      for (const value of [facts.extension, facts.callerNumber, facts.did, facts.destination]) {
        if (value !== undefined) assert.ok(scenario.includes(value), `${value} not in scenario of ${file}`);
      }
      assert.ok(captureHeader(capture, "source")?.startsWith("recorded from a real Asterisk 20"));
      assert.ok(template.blocks.every((block) => !["FullyBooted", "SuccessfulAuth", ""].includes(block.event)));
      assert.ok(template.blocks.every((block) => block.lines[0]?.key === "Event"));
    });
  }

  it("reads the click-to-call specifics from the captures", () => {
    const compile = (file: string) =>
      compileCaptureTemplate(file, "originate", parseCaptureFile(readFileSync(fixtureUrl(file), "utf8")));
    const answered = compile("ast-real-16p-click-to-call-A.txt");
    assert.equal(answered.facts.originateVariable, "CRM_ID");
    assert.equal(answered.facts.originateTimeoutMs, 30000);
    assert.equal(answered.originateFailed, false);
    assert.equal(answered.blocks.filter((block) => block.originateVariable).length, 2);
    const noAnswer = compile("ast-real-17q-click-to-call-agent-noanswer-A.txt");
    assert.equal(noAnswer.facts.originateTimeoutMs, 10000);
    assert.equal(noAnswer.originateFailed, true);
    assert.ok(noAnswer.ring);
  });
});
