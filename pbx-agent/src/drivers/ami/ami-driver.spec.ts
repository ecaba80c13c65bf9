import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { CommandStatus, OriginateSchema } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { CallDirection, CallStatus, PbxKind } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import { pino } from "pino";
import type { CallOutput } from "../../ports/pbx-driver.js";
import { type AmiDriver, type AmiDriverOptions, createAmiDriver } from "./ami-driver.js";
import {
  CLICK_TO_CALL,
  type FakeAmiServer,
  type ReceivedAction,
  SECRET,
  startFakeAmiServer,
  USERNAME,
  until,
  withActionId,
} from "./ami-test-server.js";

const extensionState = (action: ReceivedAction, status: number, text: string) =>
  `Response: Success\r\nActionID: ${action.actionId}\r\nMessage: Extension Status\r\nExten: ${action.get("Exten")}\r\n` +
  `Context: ${action.get("Context")}\r\nHint: PJSIP/${action.get("Exten")}\r\nStatus: ${status}\r\nStatusText: ${text}\r\n\r\n`;

const clickToCall = (fields: MessageInitShape<typeof OriginateSchema> = {}) =>
  create(OriginateSchema, {
    callId: "0b7c6a52-5b1e-4a53-9d3e-16c2c0000016",
    extension: "1001",
    destination: "0035799123456",
    callerId: '"Alice Smith" <1001>',
    variables: { CRM_ID: "abc123" },
    ...fields,
  });

describe("AMI driver", { timeout: 10_000 }, () => {
  let server: FakeAmiServer;
  let driver: AmiDriver | undefined;

  const open = (options: Partial<AmiDriverOptions> = {}) => {
    driver = createAmiDriver({
      host: "127.0.0.1",
      port: server.port,
      username: USERNAME,
      secret: SECRET,
      agentId: "agent-7",
      logger: pino({ level: "silent" }),
      reconnectDelayMs: 10,
      maxReconnectDelayMs: 50,
      ...options,
    });
    return driver;
  };

  beforeEach(async () => {
    server = await startFakeAmiServer();
    server.respond(
      "CoreSettings",
      (action) =>
        `Response: Success\r\nActionID: ${action.actionId}\r\nAMIversion: 9.0.0\r\nAsteriskVersion: 20.20.1\r\nSystemName: \r\n\r\n`,
    );
    server.respond("ExtensionState", (action) => extensionState(action, 0, "Idle"));
    server.respond("Originate", (action) => withActionId(CLICK_TO_CALL.originateResponse, action.actionId));
  });

  afterEach(async () => {
    await driver?.stop();
    driver = undefined;
    await server.close();
  });

  it("is an Asterisk driver reporting the version from CoreSettings once logged in", async () => {
    const ami = open();
    const states: boolean[] = [];
    ami.onConnectionChange((connected) => states.push(connected));
    assert.equal(ami.kind, PbxKind.ASTERISK);
    assert.equal(ami.pbxVersion, "");
    ami.start();
    await until(() => ami.connected, "connected");
    assert.equal(ami.pbxVersion, "20.20.1");
    assert.deepEqual(states, [true]);
  });

  it("falls back to the banner when CoreSettings is refused", async () => {
    server.respond(
      "CoreSettings",
      (action) => `Response: Error\r\nActionID: ${action.actionId}\r\nMessage: Permission denied\r\n\r\n`,
    );
    const ami = open();
    ami.start();
    await until(() => ami.connected, "connected");
    assert.equal(ami.pbxVersion, "Asterisk Call Manager/9.0.0");
  });

  it("answers PBX_UNREACHABLE while not connected", async () => {
    const outcome = await open().originate(clickToCall());
    assert.equal(outcome.status, CommandStatus.PBX_UNREACHABLE);
  });

  it("checks the extension first: unknown (-1) or unavailable (4) never rings", async () => {
    const ami = open();
    ami.start();
    await until(() => ami.connected, "connected");
    server.respond("ExtensionState", (action) => extensionState(action, -1, "Unknown"));
    assert.equal((await ami.originate(clickToCall({ extension: "1999" }))).status, CommandStatus.EXTENSION_UNKNOWN);
    server.respond("ExtensionState", (action) => extensionState(action, 4, "Unavailable"));
    assert.equal((await ami.originate(clickToCall())).status, CommandStatus.EXTENSION_UNAVAILABLE);
    const check = server.actions.find((action) => action.name === "ExtensionState");
    assert.equal(check?.get("Exten"), "1999");
    assert.equal(check?.get("Context"), "from-internal");
    assert.equal(
      server.actions.some((action) => action.name === "Originate"),
      false,
    );
  });

  it("originates click-to-call, and the call's events and Cdr carry its id and variables", async () => {
    const ami = open();
    const outputs: CallOutput[] = [];
    ami.onOutput((output) => outputs.push(output));
    ami.start();
    await until(() => ami.connected, "connected");
    const command = clickToCall({ variables: { CRM_ID: "abc123" }, timeoutSeconds: 25 });
    const outcome = await ami.originate(command);
    assert.deepEqual(outcome, { status: CommandStatus.OK, message: "Originate successfully queued" });

    const originate = server.actions.find((action) => action.name === "Originate");
    assert.ok(originate);
    assert.deepEqual(
      originate.fields.filter(([key]) => key !== "ActionID"),
      [
        ["Action", "Originate"],
        ["Channel", "Local/1001@from-internal"],
        ["Context", "from-internal"],
        ["Exten", "0035799123456"],
        ["Priority", "1"],
        ["CallerID", '"Alice Smith" <1001>'],
        ["Timeout", "25000"],
        ["Async", "true"],
        ["Variable", `CALLMESH_CALL_ID=${command.callId}`],
        ["Variable", "CRM_ID=abc123"],
      ],
    );

    // The PBX runs the call: the real capture's events from the first Newchannel on.
    server.push(CLICK_TO_CALL.callEvents);
    await until(
      () => outputs.some((output) => output.kind === "event" && output.event.kind === CallEventKind.HANGUP),
      "hangup",
    );
    await ami.stop();
    const kinds = outputs.map((output) => (output.kind === "event" ? CallEventKind[output.event.kind] : "CDR"));
    // The agent's phone rings, then the destination through the trunk, which answers.
    assert.deepEqual(kinds, ["ORIGINATE", "RINGING", "RINGING", "ANSWERED", "HANGUP", "CDR"]);
    for (const output of outputs) {
      const message = output.kind === "event" ? output.event : output.cdr;
      assert.equal(message.callId, command.callId);
      assert.equal(message.agentId, "agent-7");
      assert.deepEqual(message.variables, { CRM_ID: "abc123" });
    }
    const cdr = outputs.at(-1);
    assert.ok(cdr?.kind === "cdr");
    assert.equal(cdr.cdr.direction, CallDirection.OUTBOUND);
    assert.equal(cdr.cdr.status, CallStatus.SUCCESS);
    assert.equal(cdr.cdr.toNumber, "0035799123456");
    assert.equal(cdr.cdr.disposition, "ANSWERED");
  });

  it("escapes what Asterisk would split a Variable on, and refuses CR/LF without sending", async () => {
    const ami = open();
    ami.start();
    await until(() => ami.connected, "connected");
    assert.equal((await ami.originate(clickToCall({ variables: { NOTE: 'a,b "c" \\d' } }))).status, CommandStatus.OK);
    const originate = server.actions.find((action) => action.name === "Originate");
    assert.deepEqual(originate?.getAll("Variable").at(-1), 'NOTE=a\\,b \\"c\\" \\\\d');

    const sent = server.actions.length;
    for (const bad of [
      clickToCall({ variables: { CRM_ID: "abc\r\nAction: Hangup" } }),
      clickToCall({ callerId: "Eve\nAction: Hangup" }),
      clickToCall({ extension: "1001@evil/x" }),
      clickToCall({ destination: "" }),
      clickToCall({ variables: { "BAD NAME": "x" } }),
    ]) {
      assert.equal((await ami.originate(bad)).status, CommandStatus.PBX_REFUSED);
    }
    assert.equal(server.actions.length, sent, "nothing reached the PBX");
  });

  it("maps an Originate error to PBX_REFUSED and silence to TIMEOUT", async () => {
    const ami = open({ actionTimeoutMs: 100 });
    ami.start();
    await until(() => ami.connected, "connected");
    server.respond(
      "Originate",
      (action) => `Response: Error\r\nActionID: ${action.actionId}\r\nMessage: Originate failed\r\n\r\n`,
    );
    assert.deepEqual(await ami.originate(clickToCall()), {
      status: CommandStatus.PBX_REFUSED,
      message: "Originate refused: Originate failed",
    });
    server.respond("Originate", () => undefined);
    assert.equal((await ami.originate(clickToCall())).status, CommandStatus.TIMEOUT);
  });

  it("reports the connection lost and back after the PBX drops it", async () => {
    const ami = open();
    const states: boolean[] = [];
    ami.onConnectionChange((connected) => states.push(connected));
    ami.start();
    await until(() => ami.connected, "connected");
    server.dropAll();
    await until(() => states.length === 3, "reconnected");
    assert.deepEqual(states, [true, false, true]);
    assert.equal(ami.connected, true);
    assert.equal(server.actions.filter((action) => action.name === "CoreSettings").length, 2);
    assert.equal((await ami.originate(clickToCall())).status, CommandStatus.OK);
  });
});
