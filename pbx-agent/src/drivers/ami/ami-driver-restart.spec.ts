import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, afterEach, describe, it } from "node:test";
import { type CallEvent, CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { CallStatus } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import type { Cdr } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import { pino } from "pino";
import { readStateFile } from "../call-state-file.js";
import { rebuiltSequenceBase } from "../rebuilt-sequence.js";
import { readCapture } from "./ami-capture-fixture.js";
import { type AmiDriver, createAmiDriver } from "./ami-driver.js";
import { type FakeAmiServer, SECRET, startFakeAmiServer, USERNAME, until } from "./ami-test-server.js";

const LINKEDID = "1796125061.82";

/** ast-real-01a split after 1001 answered and the bridge formed (the talk), then the rest. */
function capture01a(): { head: string; tail: string } {
  const text = readCapture("ast-real-01a-inbound-answered-A.txt").toString("utf8");
  const blocks = text
    .slice(text.indexOf("\r\n") + 2)
    .split(/(?<=\r\n\r\n)/)
    .filter((block) => block.startsWith("Event: ") && !/^Event: (FullyBooted|SuccessfulAuth)\r/.test(block));
  let cut = 0;
  blocks.forEach((block, index) => {
    if (block.startsWith("Event: BridgeEnter")) cut = index + 1;
  });
  return { head: blocks.slice(0, cut).join(""), tail: blocks.slice(cut).join("") };
}

/** ast-real-01a while 1001 still rings (cut at its channel going Up), and what follows the talk (its hangup). */
function capture01aRinging(): { ringing: string; hangup: string } {
  const text = readCapture("ast-real-01a-inbound-answered-A.txt").toString("utf8");
  const blocks = text
    .slice(text.indexOf("\r\n") + 2)
    .split(/(?<=\r\n\r\n)/)
    .filter((block) => block.startsWith("Event: ") && !/^Event: (FullyBooted|SuccessfulAuth)\r/.test(block));
  const up = blocks.findIndex((block) => block.startsWith("Event: Newstate\r") && block.includes("ChannelState: 6\r"));
  return { ringing: blocks.slice(0, up).join(""), hangup: capture01a().tail };
}

/** CoreShowChannels' answer: the call's two channels, Up, or no channel. */
function channelList(actionId: string, callUp: boolean): string {
  const item = (channel: string, uniqueid: string, context: string, exten: string) =>
    `Event: CoreShowChannel\r\nActionID: ${actionId}\r\nChannel: ${channel}\r\nChannelState: 6\r\nChannelStateDesc: Up\r\n` +
    `CallerIDNum: +35799123456\r\nCallerIDName: John Customer\r\nContext: ${context}\r\nExten: ${exten}\r\n` +
    `Priority: 1\r\nUniqueid: ${uniqueid}\r\nLinkedid: ${LINKEDID}\r\nApplication: Dial\r\nDuration: 00:00:04\r\n\r\n`;
  const items = callUp
    ? [
        item("PJSIP/provider-00000042", LINKEDID, "from-trunk", "35722555101"),
        item("PJSIP/1001-00000043", "1796125061.83", "from-internal", "s"),
      ]
    : [];
  return (
    `Response: Success\r\nActionID: ${actionId}\r\nEventList: start\r\nMessage: Channels will follow\r\n\r\n` +
    items.join("") +
    `Event: CoreShowChannelsComplete\r\nActionID: ${actionId}\r\nEventList: Complete\r\nListItems: ${items.length}\r\n\r\n`
  );
}

const root = mkdtempSync(join(tmpdir(), "callmesh-ami-restart-"));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

describe("AMI driver across a restart", { timeout: 10_000 }, () => {
  const servers: FakeAmiServer[] = [];
  const drivers: AmiDriver[] = [];
  afterEach(async () => {
    for (const driver of drivers.splice(0)) await driver.stop();
    for (const server of servers.splice(0)) await server.close();
  });

  /** A fake Asterisk (with the call's channels up, or none), and a driver logged in to it (reconciled). */
  async function boot(stateDir: string, callUp: boolean, logger = pino({ level: "silent" })) {
    const server = await startFakeAmiServer();
    servers.push(server);
    server.respond("CoreShowChannels", (action) => channelList(action.actionId, callUp));
    server.respond(
      "ExtensionStateList",
      (action) => `Response: Error\r\nActionID: ${action.actionId}\r\nMessage: Permission denied\r\n\r\n`,
    );
    const driver = createAmiDriver({
      host: "127.0.0.1",
      port: server.port,
      username: USERNAME,
      secret: SECRET,
      agentId: "agent-7",
      logger,
      stateDir,
      cdrGraceMs: 50,
      reconnectDelayMs: 10,
    });
    drivers.push(driver);
    const events: CallEvent[] = [];
    const cdrs: Cdr[] = [];
    driver.onOutput((output) => {
      if (output.kind === "event") events.push(output.event);
      else cdrs.push(output.cdr);
    });
    driver.start();
    await server.nextAction("CoreShowChannels");
    await new Promise((resolve) => setTimeout(resolve, 30));
    return { server, driver, events, cdrs };
  }

  it("keeps the call's state in its file and continues the call after a restart: next sequence, true talk time", async () => {
    const stateDir = join(root, `d${++dirs}`);
    const { head, tail } = capture01a();
    const first = await boot(stateDir, false);
    first.server.push(head);
    await until(() => first.events.some((event) => event.kind === CallEventKind.ANSWERED), "answered");
    const file = join(stateDir, `${LINKEDID}.call`);
    const emitted = () => first.events.length;
    // Written on its own, before any stop: what a SIGKILL would leave.
    await until(() => {
      const read = existsSync(file) ? readStateFile(file) : undefined;
      return read !== undefined && "state" in read && (read.state as { sequence: number }).sequence === emitted();
    }, "the call's state on disk");
    const before = [...first.events];
    // The first agent is gone (its file stays as it was); a second one starts on the same directory.
    drivers.splice(drivers.indexOf(first.driver), 1);
    await first.driver.stop();
    const second = await boot(stateDir, true);
    assert.equal(second.events.length, 0, "nothing emitted by the restore and the reconcile");
    second.server.push(tail);
    await until(() => second.cdrs.length === 1, "the Cdr");
    assert.deepEqual(
      second.events.map((event) => [CallEventKind[event.kind], event.sequence]),
      [["HANGUP", before.length + 1]],
    );
    assert.equal(second.events[0]?.callId, before[0]?.callId);
    assert.equal(second.events[0]?.talkSeconds, 3);
    assert.equal(second.cdrs[0]?.talkSeconds, 3);
    assert.deepEqual(second.cdrs[0]?.answeredAt, before.find((e) => e.kind === CallEventKind.ANSWERED)?.answeredAt);
    await until(() => !existsSync(file), "the state dropped after the Cdr");
  });

  it("a call ringing when the PBX connection dropped and answered meanwhile gets one ANSWERED at the login, then its HANGUP and Cdr", async () => {
    const { server, events, cdrs } = await boot(join(root, `d${++dirs}`), false);
    const { ringing, hangup } = capture01aRinging();
    server.push(ringing);
    await until(() => events.some((event) => event.kind === CallEventKind.RINGING), "ringing");
    // 1001 answers while the agent is away: Asterisk shows both channels Up, with no answer time.
    server.respond("CoreShowChannels", (action) => channelList(action.actionId, true));
    const droppedMs = Date.now();
    server.dropAll();
    await server.waitForConnection(2);
    await until(() => events.some((event) => event.kind === CallEventKind.ANSWERED), "ANSWERED after the login");
    const answered = events.find((event) => event.kind === CallEventKind.ANSWERED);
    assert.equal(answered?.extension, "1001");
    const answeredMs = Number(answered?.answeredAt?.seconds ?? 0n) * 1000 + (answered?.answeredAt?.nanos ?? 0) / 1e6;
    assert.ok(answeredMs >= droppedMs - 1 && answeredMs <= Date.now(), "answered when the agent saw it up");
    server.push(hangup);
    await until(() => cdrs.length === 1, "the Cdr");
    assert.deepEqual(
      events.map((event) => [CallEventKind[event.kind], event.sequence]),
      [
        ["RINGING", 1],
        ["ANSWERED", 2],
        ["HANGUP", 3],
      ],
    );
    assert.equal(cdrs[0]?.answeredBy, "1001");
    assert.equal(CallStatus[cdrs[0]?.status ?? 0], "SUCCESS");
    assert.deepEqual(cdrs[0]?.answeredAt, answered?.answeredAt);
  });

  it("a call ringing when the PBX connection dropped and gone at the login ends with its one HANGUP", async () => {
    const { server, events, cdrs } = await boot(join(root, `d${++dirs}`), false);
    server.push(capture01aRinging().ringing);
    await until(() => events.some((event) => event.kind === CallEventKind.RINGING), "ringing");
    server.dropAll();
    await server.waitForConnection(2);
    await until(() => cdrs.length === 1, "the Cdr");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(
      events.map((event) => [CallEventKind[event.kind], event.sequence]),
      [
        ["RINGING", 1],
        ["HANGUP", 2],
      ],
    );
    assert.equal(cdrs.length, 1);
    assert.equal(cdrs[0]?.answeredAt, undefined);
  });

  it("a corrupt state file is reported, set aside, and its call rebuilt from the PBX alone", async () => {
    const stateDir = join(root, `d${++dirs}`);
    const { tail } = capture01a();
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, `${LINKEDID}.call`), 'callmesh-call-state 1 00000000 9\n{"sequ');
    const bootedMs = Date.now();
    const booted = await boot(stateDir, true, pino(stream));
    const reconciledMs = Date.now();
    const warning = lines.find((line) => line.level === 40 && line.pbxCallId === LINKEDID);
    assert.match(String(warning?.msg), /call state unreadable/);
    assert.match(String(warning?.reason), /torn/);
    assert.ok(readdirSync(stateDir).includes(`${LINKEDID}.call.unreadable`), "kept aside");
    booted.server.push(tail);
    await until(() => booted.cdrs.length === 1, "the Cdr");
    assert.deepEqual(
      booted.events.map((event) => CallEventKind[event.kind]),
      ["HANGUP"],
    );
    // Rebuilt: numbered past anything sent before, by the ms since the call's Linkedid.
    const sequence = booted.events[0]?.sequence ?? 0;
    const linkedidMs = Number(LINKEDID.split(".")[0]) * 1000;
    assert.ok(sequence >= rebuiltSequenceBase(linkedidMs, bootedMs) + 1, `sequence ${sequence}`);
    assert.ok(sequence <= rebuiltSequenceBase(linkedidMs, reconciledMs) + 1, `sequence ${sequence}`);
  });
});
