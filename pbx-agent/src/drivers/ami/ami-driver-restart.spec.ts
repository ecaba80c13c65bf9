import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, afterEach, describe, it } from "node:test";
import { type CallEvent, CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import type { Cdr } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import { pino } from "pino";
import { readStateFile } from "../call-state-file.js";
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
    const booted = await boot(stateDir, true, pino(stream));
    const warning = lines.find((line) => line.level === 40 && line.pbxCallId === LINKEDID);
    assert.match(String(warning?.msg), /call state unreadable/);
    assert.match(String(warning?.reason), /torn/);
    assert.ok(readdirSync(stateDir).includes(`${LINKEDID}.call.unreadable`), "kept aside");
    booted.server.push(tail);
    await until(() => booted.cdrs.length === 1, "the Cdr");
    assert.deepEqual(
      booted.events.map((event) => [CallEventKind[event.kind], event.sequence]),
      [["HANGUP", 1001]],
      "rebuilt: numbered past anything sent before",
    );
  });
});
