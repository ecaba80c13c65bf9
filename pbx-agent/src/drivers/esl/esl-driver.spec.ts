import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { CommandStatus, OriginateSchema } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { CallDirection, CallStatus, PbxKind } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import { createLogger } from "@callmesh/platform/logging.js";
import type { CallOutput } from "../../ports/pbx-driver.js";
import { cdrsOf, eventInvariantProblems } from "./esl-capture-fixture.js";
import { createEslDriver, type EslDriver } from "./esl-driver.js";
import { captureStream, EslTestServer } from "./esl-test-server.js";

const logger = createLogger("esl-driver-spec", "silent");
let cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function serve(options: Parameters<typeof EslTestServer.start>[0]) {
  const server = await EslTestServer.start(options);
  cleanups.push(() => server.close());
  return server;
}

function startDriver(port: number, password = "ClueCon"): { driver: EslDriver; outputs: CallOutput[] } {
  const driver = createEslDriver({
    host: "127.0.0.1",
    port,
    password,
    agentId: "agent-1",
    logger,
    pingIntervalMs: 0,
    reconnectDelayMs: 20,
    maxReconnectDelayMs: 50,
    connectTimeoutMs: 2000,
  });
  const outputs: CallOutput[] = [];
  driver.onOutput((output) => outputs.push(output));
  driver.start();
  cleanups.push(() => driver.stop());
  return { driver, outputs };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const clickToCall = (callId: string, variables: Record<string, string> = {}) =>
  create(OriginateSchema, { callId, extension: "1001", destination: "0035799123456", variables, timeoutSeconds: 30 });

describe("ESL driver against a FreeSWITCH event socket replaying real captures", () => {
  it("logs in, reports the version, and normalizes the calls FreeSWITCH streams", async () => {
    const server = await serve({
      password: "ClueCon",
      afterLogin: captureStream("fs-real-01a-inbound-answered-A.txt"),
    });
    const { driver, outputs } = startDriver(server.port);
    await until(() => cdrsOf(outputs).length === 1, "the Cdr");
    assert.equal(driver.kind, PbxKind.FREESWITCH);
    assert.equal(driver.connected, true);
    assert.match(driver.pbxVersion, /^FreeSWITCH Version 1\.10\.12/);
    assert.deepEqual(server.received.slice(0, 3), ["auth ClueCon", "event plain ALL", "api version"]);
    const [cdr] = cdrsOf(outputs);
    assert.equal(cdr?.direction, CallDirection.INBOUND);
    assert.equal(cdr?.answeredBy, "1001");
    assert.deepEqual(eventInvariantProblems(outputs), []);
  });

  it("click-to-call: bgapi originate with its own Job-UUID; the call carries the API's id and variables", async () => {
    let sent = "";
    const server = await serve({
      password: "ClueCon",
      onBgapi: (command, headers) => {
        sent = command;
        // The capture's own Job-UUID becomes ours (same length: Content-Lengths stay true).
        const stream = captureStream("fs-real-16p-click-to-call-A.txt").toString("latin1");
        return Buffer.from(
          stream.replaceAll("20ef283f-7f85-426e-aefa-407c6a1c1fdb", headers.get("Job-UUID") ?? ""),
          "latin1",
        );
      },
    });
    const { driver, outputs } = startDriver(server.port);
    await until(() => driver.connected, "login");
    const outcome = await driver.originate(clickToCall("call-42", { crm_id: "abc123" }));
    assert.equal(outcome.status, CommandStatus.OK);
    assert.match(
      sent,
      /^bgapi originate \{callmesh_call_id=call-42,origination_caller_id_number=0035799123456,effective_caller_id_number=1001,originate_timeout=30,ignore_early_media=true,crm_id=abc123\}user\/1001 0035799123456 XML default$/,
    );
    await until(() => cdrsOf(outputs).length === 1, "the Cdr");
    const events = outputs.flatMap((output) => (output.kind === "event" ? [output.event] : []));
    assert.deepEqual(
      events.map((event) => [event.callId, event.kind]),
      [
        ["call-42", CallEventKind.ORIGINATE],
        ["call-42", CallEventKind.RINGING],
        ["call-42", CallEventKind.RINGING],
        ["call-42", CallEventKind.ANSWERED],
        ["call-42", CallEventKind.HANGUP],
      ],
    );
    const [cdr] = cdrsOf(outputs);
    assert.equal(cdr?.callId, "call-42");
    assert.deepEqual(cdr?.variables, { crm_id: "abc123" });
    assert.equal(cdr?.toNumber, "0035799123456");
    assert.equal(cdr?.status, CallStatus.SUCCESS);
  });

  it("maps the originate's verdict: -ERR USER_NOT_REGISTERED → extension unavailable, a refused bgapi → refused", async () => {
    let refuse = false;
    const server = await serve({
      password: "ClueCon",
      onBgapi: (_command, headers) => {
        const job = headers.get("Job-UUID") ?? "";
        if (refuse) return "Content-Type: command/reply\nReply-Text: -ERR no reply\n\n";
        const body = "-ERR USER_NOT_REGISTERED\n";
        const event = `Event-Name: BACKGROUND_JOB\nJob-UUID: ${job}\nJob-Command: originate\nContent-Length: ${body.length}\n\n${body}`;
        return `Content-Type: command/reply\nReply-Text: +OK Job-UUID: ${job}\nJob-UUID: ${job}\n\nContent-Length: ${event.length}\nContent-Type: text/event-plain\n\n${event}`;
      },
    });
    const { driver } = startDriver(server.port);
    await until(() => driver.connected, "login");
    assert.equal((await driver.originate(clickToCall("call-1"))).status, CommandStatus.EXTENSION_UNAVAILABLE);
    refuse = true;
    assert.equal((await driver.originate(clickToCall("call-2"))).status, CommandStatus.PBX_REFUSED);
    assert.equal(
      (await driver.originate(clickToCall("call-3", { "bad name": "x" }))).status,
      CommandStatus.PBX_REFUSED,
    );
  });

  it("reconnects with backoff when FreeSWITCH drops the connection; unreachable while down", async () => {
    const server = await serve({ password: "ClueCon" });
    const { driver } = startDriver(server.port);
    const changes: boolean[] = [];
    driver.onConnectionChange((connected) => changes.push(connected));
    await until(() => driver.connected, "login");
    server.dropClients();
    await until(() => changes.includes(false), "the drop");
    await until(() => driver.connected && server.connections >= 2, "the reconnect");
    assert.deepEqual(changes.slice(0, 3), [true, false, true]);
    await server.close();
    await until(() => !driver.connected, "the loss");
    assert.equal((await driver.originate(clickToCall("call-9"))).status, CommandStatus.PBX_UNREACHABLE);
  });

  it("a refused auth is retried and never reports connected", async () => {
    const server = await serve({ password: "ClueCon" });
    const { driver } = startDriver(server.port, "wrong");
    await until(() => server.connections >= 3, "retries");
    assert.equal(driver.connected, false);
  });
});
