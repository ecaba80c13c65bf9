import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:net";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, it } from "node:test";
import { pino } from "pino";
import { type AmiConnection, type AmiConnectionOptions, createAmiConnection } from "./ami-connection.js";
import { AmiError } from "./ami-error.js";
import type { AmiMessage } from "./ami-message.js";
import { type FakeAmiServer, SECRET, startFakeAmiServer, USERNAME, until } from "./ami-test-server.js";

/** A logger whose lines the test can read. */
function memoryLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("AMI connection", { timeout: 10_000 }, () => {
  let server: FakeAmiServer;
  let connection: AmiConnection | undefined;
  let log: ReturnType<typeof memoryLogger>;

  const open = (options: Partial<AmiConnectionOptions> = {}) => {
    connection = createAmiConnection({
      host: "127.0.0.1",
      port: server.port,
      username: USERNAME,
      secret: SECRET,
      logger: log.logger,
      reconnectDelayMs: 10,
      maxReconnectDelayMs: 50,
      ...options,
    });
    return connection;
  };

  beforeEach(async () => {
    server = await startFakeAmiServer();
    log = memoryLogger();
  });

  afterEach(async () => {
    await connection?.stop();
    connection = undefined;
    await server.close();
  });

  it("reads the banner, logs in with Username/Secret and Events: on, then delivers events", async () => {
    const ami = open();
    const events: AmiMessage[] = [];
    const states: boolean[] = [];
    ami.onEvent((event) => events.push(event));
    ami.onConnectionChange((connected) => states.push(connected));
    ami.start();
    await until(() => ami.connected, "login");
    assert.equal(ami.banner, "Asterisk Call Manager/9.0.0");
    assert.deepEqual(states, [true]);
    const login = server.actions[0];
    assert.equal(login?.name, "Login");
    assert.equal(login?.get("Username"), USERNAME);
    assert.equal(login?.get("Secret"), SECRET);
    assert.equal(login?.get("Events"), "on");
    await until(() => events.length >= 2, "events after login");
    assert.deepEqual(
      events.map((event) => event.event),
      ["FullyBooted", "SuccessfulAuth"],
    );
  });

  it("matches responses to actions by ActionID, whatever their order", async () => {
    const ami = open();
    const held: { actionId: string; tag: string }[] = [];
    server.respond("ExtensionState", (action) => {
      held.push({ actionId: action.actionId, tag: action.get("Exten") ?? "" });
      if (held.length < 2) return undefined;
      // Answer both, the second first, with an unrelated response in between.
      const answer = (entry: { actionId: string; tag: string }) =>
        `Response: Success\r\nActionID: ${entry.actionId}\r\nMessage: Extension Status\r\nExten: ${entry.tag}\r\nStatus: 0\r\n\r\n`;
      return `${answer(held[1] as (typeof held)[0])}Response: Success\r\nActionID: not-ours\r\n\r\n${answer(held[0] as (typeof held)[0])}`;
    });
    ami.start();
    await until(() => ami.connected, "login");
    const [first, second] = await Promise.all([
      ami.sendAction("ExtensionState", { Exten: "1001", Context: "from-internal" }),
      ami.sendAction("ExtensionState", { Exten: "1002", Context: "from-internal" }),
    ]);
    assert.equal(first.get("Exten"), "1001");
    assert.equal(second.get("Exten"), "1002");
    assert.notEqual(held[0]?.actionId, held[1]?.actionId);
    assert.equal(ami.stats.unmatchedResponses, 1);
  });

  it("times an action out with a deadline error, and refuses actions while disconnected", async () => {
    const ami = open();
    await assert.rejects(ami.sendAction("Ping"), (error: AmiError) => error.code === "unavailable");
    server.respond("Status", () => undefined);
    ami.start();
    await until(() => ami.connected, "login");
    await assert.rejects(
      ami.sendAction("Status", {}, { timeoutMs: 50 }),
      (error: AmiError) => error instanceof AmiError && error.code === "deadline",
    );
  });

  it("refuses a value with CR or LF before anything is written", async () => {
    const ami = open();
    ami.start();
    await until(() => ami.connected, "login");
    const before = server.actions.length;
    await assert.rejects(
      ami.sendAction("Originate", { Variable: ["A=1\r\nAction: Hangup"] }),
      (error: AmiError) => error.code === "invalid_argument",
    );
    await ami.sendAction("Ping");
    assert.deepEqual(
      server.actions.slice(before).map((action) => action.name),
      ["Ping"],
    );
  });

  it("reconnects after the PBX drops the socket, failing what was in flight", async () => {
    const ami = open();
    const states: boolean[] = [];
    ami.onConnectionChange((connected) => states.push(connected));
    server.respond("Status", () => undefined);
    ami.start();
    await until(() => ami.connected, "login");
    const inFlight = ami.sendAction("Status", {}, { timeoutMs: 5000 });
    await server.nextAction("Status");
    server.dropAll();
    await assert.rejects(inFlight, (error: AmiError) => error.code === "aborted");
    await server.waitForConnection(2);
    await until(() => ami.connected, "second login");
    assert.deepEqual(states, [true, false, true]);
    assert.equal(ami.stats.sessions, 2);
    assert.ok(log.lines.some((line) => line.msg === "AMI session lost; reconnecting"));
    assert.equal((await ami.sendAction("Ping")).get("Ping"), "Pong");
  });

  it("closes a session whose keepalive Ping goes unanswered, and reconnects", async () => {
    const ami = open({ pingIntervalMs: 40 });
    let silent = true;
    server.respond("Ping", (action) =>
      silent ? undefined : `Response: Success\r\nActionID: ${action.actionId}\r\nPing: Pong\r\n\r\n`,
    );
    ami.start();
    await until(() => ami.connected, "login");
    await server.waitForConnection(2);
    silent = false;
    await until(() => ami.connected, "login after the dead session");
    const lost = log.lines.find((line) => line.msg === "AMI session lost; reconnecting");
    assert.equal(lost?.code, "deadline");
  });

  it("retries a refused login with backoff, logging why", async () => {
    const ami = open({ secret: "wrong" });
    ami.start();
    await server.waitForConnection(3);
    assert.equal(ami.connected, false);
    const refused = log.lines.filter((line) => line.msg === "AMI login refused; retrying");
    assert.ok(refused.length >= 2);
    assert.equal(refused[0]?.code, "unauthenticated");
    assert.match(String((refused[0]?.err as { message?: string })?.message), /Authentication failed/);
  });

  it("classifies a refused TCP connect as unavailable, keeping the cause", async () => {
    const ami = open({ port: await freePort() });
    ami.start();
    await until(() => log.lines.length >= 2, "two failed attempts");
    const failed = log.lines.find((line) => line.msg === "AMI connect failed; retrying");
    assert.equal(failed?.code, "unavailable");
    assert.match(JSON.stringify(failed?.err), /ECONNREFUSED/);
  });

  it("logs off on stop and stays down", async () => {
    const ami = open();
    ami.start();
    await until(() => ami.connected, "login");
    await ami.stop();
    assert.equal(ami.connected, false);
    assert.equal(server.actions.at(-1)?.name, "Logoff");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(server.accepted, 1, "no reconnect after stop");
  });
});
