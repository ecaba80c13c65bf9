import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { CommandStatus, TransferMode } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { type CallEvent, CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
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
