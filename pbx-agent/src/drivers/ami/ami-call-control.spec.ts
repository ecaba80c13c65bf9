import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { CommandStatus, TransferMode } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { ActiveCallState } from "@callmesh/gen/callmesh/events/v1/active_call_pb.js";
import { type CallEvent, CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import type { Cdr } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import { pino } from "pino";
import { readCapture } from "./ami-capture-fixture.js";
import { type AmiDriver, createAmiDriver } from "./ami-driver.js";
import { type FakeAmiServer, SECRET, startFakeAmiServer, USERNAME, until } from "./ami-test-server.js";

/** ast-real-14n split at the recorder's BlindTransfer: an inbound call 1001 answered, bridged, talking; then the rest. */
function capture14n(): { head: string; tail: string } {
  const text = readCapture("ast-real-14n-blind-transfer-A.txt").toString("utf8");
  const blocks = text.slice(text.indexOf("\r\n") + 2).split(/(?<=\r\n\r\n)/);
  const transfer = blocks.findIndex((block) => block.includes("Message: Transfer succeeded"));
  const events = (part: string[]) =>
    part
      .filter((block) => block.startsWith("Event: ") && !/^Event: (FullyBooted|SuccessfulAuth)\r/.test(block))
      .join("");
  return { head: events(blocks.slice(0, transfer)), tail: events(blocks.slice(transfer + 1)) };
}

/** CoreShowChannels' answer (manager.c action_coreshowchannels) listing `channels` as Asterisk 20 prints them. */
function channelList(actionId: string, channels: Array<[name: string, uniqueid: string, context: string]>): string {
  let text = `Response: Success\r\nActionID: ${actionId}\r\nEventList: start\r\nMessage: Channels will follow\r\n\r\n`;
  for (const [name, uniqueid, context] of channels) {
    text +=
      `Event: CoreShowChannel\r\nActionID: ${actionId}\r\nChannel: ${name}\r\nChannelState: 6\r\nChannelStateDesc: Up\r\n` +
      `CallerIDNum: 1001\r\nCallerIDName: Alice Smith\r\nConnectedLineNum: \r\nConnectedLineName: \r\nLanguage: en\r\n` +
      `AccountCode: \r\nContext: ${context}\r\nExten: 1001\r\nPriority: 3\r\nUniqueid: ${uniqueid}\r\n` +
      `Linkedid: 1796124957.55\r\nBridgeId: 05974889-c42d-4f8f-9996-a888ee150bf6\r\nApplication: Dial\r\n` +
      `ApplicationData: PJSIP/1001,20,Ttr\r\nDuration: 00:00:05\r\n\r\n`;
  }
  return `${text}Event: CoreShowChannelsComplete\r\nActionID: ${actionId}\r\nEventList: Complete\r\nListItems: ${channels.length}\r\n\r\n`;
}

const BOTH_CHANNELS: Array<[string, string, string]> = [
  ["PJSIP/provider-0000002f", "1796124957.55", "ext-local"],
  ["PJSIP/1001-00000030", "1796124957.56", "from-internal"],
];

const error = (actionId: string, message: string) =>
  `Response: Error\r\nActionID: ${actionId}\r\nMessage: ${message}\r\n\r\n`;
const success = (actionId: string, message: string) =>
  `Response: Success\r\nActionID: ${actionId}\r\nMessage: ${message}\r\n\r\n`;

describe("AMI call control", { timeout: 10_000 }, () => {
  let server: FakeAmiServer;
  let driver: AmiDriver;
  let events: CallEvent[];

  beforeEach(async () => {
    server = await startFakeAmiServer();
    server.respond(
      "CoreSettings",
      (action) => `Response: Success\r\nActionID: ${action.actionId}\r\nAsteriskVersion: 20.20.1\r\n\r\n`,
    );
    driver = createAmiDriver({
      host: "127.0.0.1",
      port: server.port,
      username: USERNAME,
      secret: SECRET,
      agentId: "agent-7",
      logger: pino({ level: "silent" }),
      reconnectDelayMs: 10,
    });
    events = [];
    driver.onOutput((output) => {
      if (output.kind === "event") events.push(output.event);
    });
    server.respond("ExtensionStateList", (action) => error(action.actionId, "Permission denied"));
    server.respond("CoreShowChannels", (action) => channelList(action.actionId, []));
    driver.start();
    await until(() => driver.connected, "connected");
    // Logged in and reconciled with the PBX (no channels yet) before the call starts.
    await server.nextAction("CoreShowChannels");
    await new Promise((resolve) => setTimeout(resolve, 20));
    server.push(capture14n().head);
    await until(() => events.some((event) => event.kind === CallEventKind.ANSWERED), "answered");
  });

  afterEach(async () => {
    await driver.stop();
    await server.close();
  });

  const callId = () => events[0]?.callId ?? "";

  it("falls back to a Redirect of the caller when Asterisk refuses the BlindTransfer", async () => {
    server.respond("BlindTransfer", (action) => error(action.actionId, "Transfer not permitted"));
    server.respond("Redirect", (action) => success(action.actionId, "Redirect successful"));
    const outcome = await driver.control({
      case: "transfer",
      value: { callId: callId(), party: "", destination: "1002", mode: TransferMode.BLIND } as never,
    });
    assert.equal(outcome.status, CommandStatus.OK, outcome.message);
    const redirect = server.actions.find((action) => action.name === "Redirect");
    assert.equal(redirect?.get("Channel"), "PJSIP/provider-0000002f");
    assert.equal(redirect?.get("Exten"), "1002");
    assert.equal(redirect?.get("Context"), "from-internal");
    assert.equal(redirect?.get("Priority"), "1");
  });

  it("maps Asterisk's refusals: a channel gone is CALL_NOT_FOUND, an unknown destination EXTENSION_UNKNOWN", async () => {
    server.respond("Hangup", (action) => error(action.actionId, "No such channel"));
    const hangup = await driver.control({ case: "hangup", value: { callId: callId(), party: "1001" } as never });
    assert.equal(hangup.status, CommandStatus.CALL_NOT_FOUND);
    assert.equal(server.actions.find((action) => action.name === "Hangup")?.get("Channel"), "PJSIP/1001-00000030");
    server.respond("Atxfer", (action) => error(action.actionId, "Extension does not exist."));
    const atxfer = await driver.control({
      case: "transfer",
      value: { callId: callId(), party: "", destination: "1999", mode: TransferMode.ATTENDED } as never,
    });
    assert.equal(atxfer.status, CommandStatus.EXTENSION_UNKNOWN);
    server.respond("Park", (action) => error(action.actionId, "Park action failed"));
    const park = await driver.control({ case: "park", value: { callId: callId(), party: "" } as never });
    assert.equal(park.status, CommandStatus.PBX_REFUSED);
  });

  it("names parties by the caller's number or an extension; one the call does not have is WRONG_CALL_STATE", async () => {
    server.respond("Hangup", (action) => success(action.actionId, "Channel Hungup"));
    const caller = await driver.control({
      case: "hangup",
      value: { callId: callId(), party: "+35799123456" } as never,
    });
    assert.equal(caller.status, CommandStatus.OK);
    assert.equal(server.actions.find((action) => action.name === "Hangup")?.get("Channel"), "PJSIP/provider-0000002f");
    const nobody = await driver.control({ case: "hangup", value: { callId: callId(), party: "1009" } as never });
    assert.equal(nobody.status, CommandStatus.WRONG_CALL_STATE);
    const intercept = await driver.control({
      case: "intercept",
      value: { callId: callId(), extension: "1007" } as never,
    });
    assert.equal(intercept.status, CommandStatus.WRONG_CALL_STATE, "the call is answered");
  });

  const hangups = () => events.filter((event) => event.kind === CallEventKind.HANGUP);

  it("a call that ended while the PBX connection was down gets its one HANGUP at the reconnect", async () => {
    server.dropAll();
    await server.waitForConnection(2);
    await until(() => hangups().length === 1, "HANGUP after the reconnect");
    assert.equal(hangups()[0]?.callId, callId());
    // What the PBX sent before the reconnect noticed nothing of it adds nothing.
    server.push(capture14n().tail);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(hangups().length, 1);
    const listed = await driver.control({ case: "listCalls", value: { callId: "" } as never });
    assert.deepEqual(listed.detail?.case === "calls" ? listed.detail.value.calls : undefined, []);
  });

  it("a call still up at the reconnect is tracked on: no second start, one HANGUP when it really ends", async () => {
    server.respond("CoreShowChannels", (action) => channelList(action.actionId, BOTH_CHANNELS));
    const before = events.length;
    server.dropAll();
    await server.waitForConnection(2);
    await server.nextAction("CoreShowChannels");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(events.length, before, "nothing emitted by the reconcile");
    server.push(capture14n().tail);
    await until(() => hangups().length === 1, "HANGUP");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(hangups().length, 1);
    assert.equal(events.filter((event) => event.kind === CallEventKind.ANSWERED).length, 1);
    assert.equal(events.find((event) => event.kind === CallEventKind.TRANSFERRED)?.transferredTo, "1002");
  });

  it("answers PBX_UNREACHABLE for a known call while the PBX is away", async () => {
    await server.close();
    await until(() => !driver.connected, "disconnected");
    const outcome = await driver.control({ case: "hangup", value: { callId: callId(), party: "" } as never });
    assert.equal(outcome.status, CommandStatus.PBX_UNREACHABLE);
  });
});

const SPY_CALL_ID = "5f0c7e2a-2b1d-4c8e-9a47-0d3e6b1f8c21";

/**
 * Hand-adapted from ast-real-19s-chanspy-A.txt: the recorder's ChanSpy Originate as the driver
 * sends it now, with `Variable: CALLMESH_CALL_ID=<spy_call_id>`, so a VarSet of it follows the
 * Local halves' Newchannels, one per half (where ast-real-16p shows its CRM_ID's). Split at the
 * Originate's response (1001 answered the caller), at ChanSpyStart (1005 answered and listens),
 * and the rest (1005 hangs up, then the caller).
 */
function capture19s(): { head: string; spy: string; tail: string } {
  const text = readCapture("ast-real-19s-chanspy-A.txt").toString("utf8");
  const blocks = text.slice(text.indexOf("\r\n") + 2).split(/(?<=\r\n\r\n)/);
  const queued = blocks.findIndex((block) => block.includes("Message: Originate successfully queued"));
  const spying = blocks.findIndex((block) => block.startsWith("Event: ChanSpyStart\r"));
  const varSet = (half: string, uniqueid: string) =>
    `Event: VarSet\r\nPrivilege: dialplan,all\r\nTimestamp: 1796125027.806520\r\nChannel: Local/1005@from-internal-00000007;${half}\r\n` +
    "ChannelState: 0\r\nChannelStateDesc: Down\r\nCallerIDNum: <unknown>\r\nCallerIDName: <unknown>\r\n" +
    "ConnectedLineNum: <unknown>\r\nConnectedLineName: <unknown>\r\nLanguage: en\r\nAccountCode: \r\n" +
    `Context: from-internal\r\nExten: 1005\r\nPriority: 1\r\nUniqueid: ${uniqueid}\r\nLinkedid: 1796125027.74\r\n` +
    `Variable: CALLMESH_CALL_ID\r\nValue: ${SPY_CALL_ID}\r\n\r\n`;
  const events = (part: string[]) =>
    part
      .filter((block) => block.startsWith("Event: ") && !/^Event: (FullyBooted|SuccessfulAuth)\r/.test(block))
      .flatMap((block) =>
        block.startsWith("Event: Newchannel\r") && block.includes("Channel: Local/1005@from-internal-00000007;2\r")
          ? [block, varSet("1", "1796125027.74"), varSet("2", "1796125027.75")]
          : [block],
      )
      .join("");
  return {
    head: events(blocks.slice(0, queued)),
    spy: events(blocks.slice(queued + 1, spying + 1)),
    tail: events(blocks.slice(spying + 1)),
  };
}

describe("AMI supervision sessions by spy_call_id", { timeout: 10_000 }, () => {
  let server: FakeAmiServer;
  let driver: AmiDriver;
  let events: CallEvent[];
  let cdrs: Cdr[];
  const capture = capture19s();

  beforeEach(async () => {
    server = await startFakeAmiServer();
    server.respond("ExtensionStateList", (action) => error(action.actionId, "Permission denied"));
    server.respond("CoreShowChannels", (action) => channelList(action.actionId, []));
    server.respond("Originate", (action) => success(action.actionId, "Originate successfully queued"));
    server.respond("Hangup", (action) => success(action.actionId, "Channel Hungup"));
    driver = createAmiDriver({
      host: "127.0.0.1",
      port: server.port,
      username: USERNAME,
      secret: SECRET,
      agentId: "agent-7",
      logger: pino({ level: "silent" }),
      reconnectDelayMs: 10,
      cdrGraceMs: 20,
    });
    events = [];
    cdrs = [];
    driver.onOutput((output) => {
      if (output.kind === "event") events.push(output.event);
      else cdrs.push(output.cdr);
    });
    driver.start();
    await server.nextAction("CoreShowChannels");
    await new Promise((resolve) => setTimeout(resolve, 20));
    server.push(capture.head);
    await until(() => events.some((event) => event.kind === CallEventKind.ANSWERED), "answered");
  });

  afterEach(async () => {
    await driver.stop();
    await server.close();
  });

  const callId = () => events[0]?.callId ?? "";
  const listOne = async (id: string) => {
    const outcome = await driver.control({ case: "listCalls", value: { callId: id } as never });
    return { outcome, calls: outcome.detail?.case === "calls" ? outcome.detail.value.calls : [] };
  };

  it("the supervisor's call carries the spy_call_id; Hangup and ListCalls address it, nothing else does", async () => {
    const spied = await driver.control({
      case: "spy",
      value: { callId: callId(), supervisor: "1005", party: "", spyCallId: SPY_CALL_ID } as never,
    });
    assert.equal(spied.status, CommandStatus.OK, spied.message);
    const originate = server.actions.find((action) => action.name === "Originate");
    assert.deepEqual(originate?.getAll("Variable"), [`CALLMESH_CALL_ID=${SPY_CALL_ID}`]);
    assert.equal(originate?.get("Data"), "PJSIP/1001,q");
    // Queued, nothing on the PBX yet: the session is there already.
    assert.equal((await listOne(SPY_CALL_ID)).calls[0]?.state, ActiveCallState.RINGING);

    server.push(capture.spy);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { calls } = await listOne(SPY_CALL_ID);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.callId, SPY_CALL_ID);
    assert.equal(calls[0]?.pbxCallId, "1796125027.74");
    assert.equal(calls[0]?.state, ActiveCallState.ANSWERED);
    assert.equal(calls[0]?.answeredBy, "1005");
    const all = await listOne("");
    assert.deepEqual(
      all.calls.map((call) => call.callId),
      [callId()],
      "ListCalls without an id leaves supervision out",
    );
    for (const action of [
      { case: "hold", value: { callId: SPY_CALL_ID, party: "" } },
      { case: "transfer", value: { callId: SPY_CALL_ID, party: "", destination: "1002", mode: TransferMode.BLIND } },
      { case: "spy", value: { callId: SPY_CALL_ID, supervisor: "1006", party: "", spyCallId: "x" } },
    ]) {
      const outcome = await driver.control(action as never);
      assert.equal(outcome.status, CommandStatus.WRONG_CALL_STATE, action.case);
      assert.match(outcome.message, /supervision session/);
    }

    const hungUp = await driver.control({ case: "hangup", value: { callId: SPY_CALL_ID, party: "" } as never });
    assert.equal(hungUp.status, CommandStatus.OK, hungUp.message);
    assert.deepEqual(
      server.actions.filter((action) => action.name === "Hangup").map((action) => action.get("Channel")),
      ["PJSIP/1005-0000003c", "Local/1005@from-internal-00000007;1"],
      "the supervisor's phone and the Local half running ChanSpy; not the customer's channels",
    );

    server.push(capture.tail);
    await until(() => cdrs.length === 1, "the customer call's Cdr");
    assert.equal((await listOne(SPY_CALL_ID)).outcome.status, CommandStatus.CALL_NOT_FOUND, "forgotten at its end");
    const again = await driver.control({ case: "hangup", value: { callId: SPY_CALL_ID, party: "" } as never });
    assert.equal(again.status, CommandStatus.CALL_NOT_FOUND);
    assert.deepEqual(
      [...new Set(events.map((event) => event.callId))],
      [callId()],
      "the supervisor's call is in no event",
    );
    assert.equal(cdrs[0]?.callId, callId());
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(cdrs.length, 1, "and in no Cdr");
  });

  it("a Spy refused by Asterisk leaves no session", async () => {
    server.respond("Originate", (action) => error(action.actionId, "Originate failed"));
    const spied = await driver.control({
      case: "spy",
      value: { callId: callId(), supervisor: "1005", party: "", spyCallId: SPY_CALL_ID } as never,
    });
    assert.equal(spied.status, CommandStatus.PBX_REFUSED);
    assert.equal((await listOne(SPY_CALL_ID)).outcome.status, CommandStatus.CALL_NOT_FOUND);
  });
});
