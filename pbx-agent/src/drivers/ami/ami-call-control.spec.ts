import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { CommandStatus, TransferMode } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { type CallEvent, CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { pino } from "pino";
import { readCapture } from "./ami-capture-fixture.js";
import { type AmiDriver, createAmiDriver } from "./ami-driver.js";
import { type FakeAmiServer, SECRET, startFakeAmiServer, USERNAME, until } from "./ami-test-server.js";

/** ast-real-14n up to the recorder's BlindTransfer: an inbound call 1001 answered, bridged, talking. */
function answeredCallEvents(): string {
  const text = readCapture("ast-real-14n-blind-transfer-A.txt").toString("utf8");
  const blocks = text.slice(text.indexOf("\r\n") + 2).split(/(?<=\r\n\r\n)/);
  const transfer = blocks.findIndex((block) => block.includes("Message: Transfer succeeded"));
  return blocks
    .slice(0, transfer)
    .filter((block) => block.startsWith("Event: ") && !/^Event: (FullyBooted|SuccessfulAuth)\r/.test(block))
    .join("");
}

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
    driver.start();
    await until(() => driver.connected, "connected");
    server.push(answeredCallEvents());
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

  it("answers PBX_UNREACHABLE for a known call while the PBX is away", async () => {
    await server.close();
    await until(() => !driver.connected, "disconnected");
    const outcome = await driver.control({ case: "hangup", value: { callId: callId(), party: "" } as never });
    assert.equal(outcome.status, CommandStatus.PBX_UNREACHABLE);
  });
});
