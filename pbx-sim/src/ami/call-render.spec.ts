import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { blockValue, parseAmiBlock } from "./ami-block.js";
import { createCallIdentities } from "./call-identities.js";
import { type CallValues, originateVariableOrder, renderCall } from "./call-render.js";
import { fixtureUrl } from "./call-templates.js";
import { parseCaptureFile } from "./capture-file.js";
import { compileCaptureTemplate, type FactName, type TemplateKind } from "./capture-template.js";

const compile = (file: string, kind: TemplateKind) =>
  compileCaptureTemplate(file, kind, parseCaptureFile(readFileSync(fixtureUrl(file), "utf8")));

const facts = (overrides: Partial<Record<FactName, string>>): Record<FactName, string> => ({
  extension: "1005",
  extensionName: "Eve Supervisor",
  callerNumber: "+442071234567",
  callerName: "Jane Doe",
  did: "35722555105",
  destination: "0044207111222",
  callerIdNumber: "1005",
  callerIdName: "Eve Supervisor",
  ...overrides,
});

const NOW_US = 1_900_000_000_500_000;
const inbound = compile("ast-real-01a-inbound-answered-A.txt", "inbound");

function renderInbound(values: CallValues = { facts: facts({}) }) {
  const identities = createCallIdentities(1_899_999_000);
  identities.allocate(inbound, { nowUs: NOW_US }); // a call before: ids must move on
  return renderCall(inbound, values, identities.allocate(inbound, { nowUs: NOW_US }));
}

describe("call-render", () => {
  it("keeps the recorded event sequence and key order, with every recorded id and number replaced", () => {
    const events = renderInbound();
    assert.deepEqual(
      events.map((event) => event.event),
      inbound.blocks.map((block) => block.event),
    );
    events.forEach((event, index) => {
      assert.deepEqual(
        event.lines.map(([key]) => key),
        inbound.blocks[index]?.lines.map((line) => line.key),
      );
    });
    const text = events.map((event) => event.text).join("");
    for (const recorded of [
      "1001",
      "Alice Smith",
      "+35799123456",
      "John Customer",
      "35722555101",
      "1796125061.82",
      "1796125061.83",
      "PJSIP/1001-00000043",
      "PJSIP/provider-00000042",
      "8cf04332-3b02-4ca2-b5dc-ffefff9fa185",
      "1-15514@127.0.0.1",
      "2026-12-01",
    ]) {
      assert.ok(!text.includes(recorded), `${recorded} still in the played call`);
    }
    assert.ok(text.includes('AppData: Calling extension 1005 from "Jane Doe" <+442071234567>'));
    assert.ok(text.includes("Channel: PJSIP/1005-"));
    assert.ok(text.includes("AppData: ext-did,35722555105,1"));
  });

  it("keeps ids of one call related: one Linkedid, the first channel's Uniqueid, as <epoch>.<counter>", () => {
    const events = renderInbound();
    const first = events.find((event) => event.event === "Newchannel");
    const uniqueid = first?.lines.find(([key]) => key === "Uniqueid")?.[1] ?? "";
    assert.match(uniqueid, new RegExp(`^${Math.floor((first?.atUs ?? 0) / 1_000_000)}\\.\\d+$`));
    const linkedids = new Set(
      events
        .flatMap((event) => event.lines.filter(([key]) => /^(Linkedid|LinkedID|DestLinkedid)$/.test(key)))
        .map(([, v]) => v),
    );
    assert.deepEqual([...linkedids], [uniqueid]);
    const [epoch, counter] = uniqueid.split(".");
    const second = events.filter((event) => event.event === "Newchannel")[1]?.lines.find(([key]) => key === "Uniqueid");
    assert.equal(second?.[1], `${epoch}.${Number(counter) + 1}`);
  });

  it("shifts times to now but keeps the recorded gaps and the Cdr's durations", () => {
    const events = renderInbound();
    const firstUs = events[0]?.atUs ?? 0;
    assert.ok(firstUs <= NOW_US && firstUs > NOW_US - 1_000_000);
    events.forEach((event, index) => {
      assert.equal(event.atUs - firstUs, (inbound.blocks[index]?.atUs ?? 0) - (inbound.blocks[0]?.atUs ?? 0));
    });
    const cdr = parseAmiBlock(events.find((event) => event.event === "Cdr")?.text ?? "");
    assert.equal(blockValue(cdr, "Duration"), "5");
    assert.equal(blockValue(cdr, "BillableSeconds"), "3");
    const seconds = (key: string) => Date.parse(`${blockValue(cdr, key)?.replace(" ", "T")}Z`) / 1000;
    assert.equal(seconds("EndTime") - seconds("StartTime"), 5);
    assert.equal(seconds("EndTime") - seconds("AnswerTime"), 3);
    assert.equal(seconds("StartTime"), Math.floor(firstUs / 1_000_000));
  });

  it("replaces whole tokens only", () => {
    const capture = parseCaptureFile(
      [
        "# source: test",
        "Asterisk Call Manager/9.0.0",
        "Event: Newchannel\r\nPrivilege: call,all\r\nTimestamp: 1796125061.000001\r\nChannel: PJSIP/provider-00000001\r\nCallerIDNum: +35799123456\r\nCallerIDName: John Customer\r\nExten: 35722555101\r\nUniqueid: 1796125061.1\r\nLinkedid: 1796125061.1\r\n",
        "Event: DialBegin\r\nPrivilege: call,all\r\nTimestamp: 1796125061.000002\r\nDestCallerIDName: Alice Smith\r\nDialString: 1001\r\n",
        "Event: VarSet\r\nPrivilege: dialplan,all\r\nTimestamp: 1796125061.000003\r\nVariable: RINGTIME_MS\r\nValue: 1001\r\n",
        "Event: VarSet\r\nPrivilege: dialplan,all\r\nTimestamp: 1796125061.000004\r\nVariable: NUMBERS\r\nValue: 10011 1001 x1001 1001x 1001,1001@a Alice Smithson 135722555101\r\n",
        "Event: Hangup\r\nPrivilege: call,all\r\nTimestamp: 1796125061.000005\r\nCause: 1001\r\nExten: 1001\r\n\r\n",
      ].join("\r\n"),
    );
    const template = compileCaptureTemplate("mini", "inbound", capture);
    const identities = createCallIdentities(0);
    const text = renderCall(template, { facts: facts({}) }, identities.allocate(template, { nowUs: NOW_US }))
      .map((event) => event.text)
      .join("");
    assert.ok(text.includes("Variable: RINGTIME_MS\r\nValue: 1001\r\n"), "a duration equal to the extension stays");
    assert.ok(text.includes("Value: 10011 1005 x1001 1001x 1005,1005@a Alice Smithson 135722555101\r\n"));
    assert.ok(text.includes("Cause: 1001\r\nExten: 1005\r\n"));
  });

  it("sets an Originate's variables in Asterisk's order on each Local half", () => {
    assert.deepEqual(
      originateVariableOrder([
        ["A", "1"],
        ["B", "2"],
      ]),
      {
        set: [
          ["B", "2"],
          ["A", "1"],
        ],
        copy: [
          ["A", "1"],
          ["B", "2"],
        ],
      },
    );
  });

  it("tells the agent's own identity from the Originate's CallerID", () => {
    const template = compile("ast-real-16p-click-to-call-A.txt", "originate");
    const values: CallValues = {
      facts: facts({ callerIdNumber: "555", callerIdName: "CRM Dialer" }),
      request: {
        actionId: "a1",
        channel: "Local/1005@from-internal",
        context: "from-internal",
        exten: "0044207111222",
        callerIdNumber: "555",
        callerIdName: "CRM Dialer",
      },
      variables: [["CALLMESH_CALL_ID", "call-9"]],
    };
    const events = renderCall(template, values, createCallIdentities(0).allocate(template, { nowUs: NOW_US }));
    const of = (channelPrefix: string, event: string) =>
      events.find(
        (e) =>
          e.event === event && e.lines.some(([key, value]) => key === "Channel" && value.startsWith(channelPrefix)),
      );
    const agent = of("PJSIP/1005-", "Newchannel");
    assert.equal(agent?.lines.find(([key]) => key === "CallerIDNum")?.[1], "1005");
    assert.equal(agent?.lines.find(([key]) => key === "CallerIDName")?.[1], "Eve Supervisor");
    const local = of("Local/1005@from-internal-", "NewCallerid");
    assert.equal(local?.lines.find(([key]) => key === "CallerIDNum")?.[1], "555");
    assert.equal(local?.lines.find(([key]) => key === "CallerIDName")?.[1], "CRM Dialer");
    const text = events.map((event) => event.text).join("");
    assert.ok(text.includes("AppData: Outbound call from 555 to 0044207111222"));
    assert.ok(text.includes('AppData: Calling extension 1005 from "CRM Dialer" <555>'));
    assert.equal(text.match(/Variable: CALLMESH_CALL_ID\r\nValue: call-9\r\n/g)?.length, 2);
    assert.ok(!text.includes("CRM_ID"));
  });

  it("stretches a timed-out Originate's ring to the requested Timeout, Cdr durations with it", () => {
    const template = compile("ast-real-17q-click-to-call-agent-noanswer-A.txt", "originate");
    const allocation = createCallIdentities(0).allocate(template, { nowUs: NOW_US, ringDeltaUs: 20_000_000 });
    const events = renderCall(template, { facts: facts({}) }, allocation);
    const at = (event: string) => events.find((e) => e.event === event)?.atUs ?? 0;
    const ringUs = at("HangupRequest") - (events[0]?.atUs ?? 0);
    assert.ok(ringUs > 30_000_000 && ringUs < 30_100_000, `ring ${ringUs} µs`);
    const cdr = parseAmiBlock(events.find((event) => event.event === "Cdr")?.text ?? "");
    assert.equal(blockValue(cdr, "Duration"), "30");
    assert.equal(blockValue(cdr, "BillableSeconds"), "0");
  });
});
