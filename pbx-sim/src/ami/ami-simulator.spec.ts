import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "@callmesh/platform/logging.js";
import { type AmiBlock, blockValue } from "./ami-block.js";
import { type AmiSimulator, type AmiSimulatorOptions, startAmiSimulator } from "./ami-simulator.js";
import { type AmiTestClient, connectAmiTestClient } from "./ami-test-client.js";
import { fixtureUrl } from "./call-templates.js";
import { parseCaptureFile } from "./capture-file.js";

const TEST = { timeout: 5000 };
const logger = createLogger("pbx-sim-test", "silent");

async function withSimulator(options: AmiSimulatorOptions, run: (simulator: AmiSimulator) => Promise<void>) {
  const simulator = await startAmiSimulator({ timeScale: 0, authFailureDelayMs: 0, logger, ...options });
  try {
    await run(simulator);
  } finally {
    await simulator.close();
  }
}

async function loggedIn(simulator: AmiSimulator, extra: ReadonlyArray<readonly [string, string]> = []) {
  const client = await connectAmiTestClient(simulator.port);
  client.sendAction([
    ["Action", "Login"],
    ["ActionID", "login"],
    ["Username", "callmesh"],
    ["Secret", "callmesh"],
    ...extra,
  ]);
  const response = await client.response("login");
  assert.equal(blockValue(response, "Message"), "Authentication accepted");
  return client;
}

const isEvent = (name: string) => (block: AmiBlock) => block[0]?.key === "Event" && block[0].value === name;
const events = (client: AmiTestClient) => client.blocks.filter((block) => block[0]?.key === "Event");
const lines = (block: AmiBlock) => block.map(({ key, value }) => [key, value]);

/** The recorded call's events: the sequence a played call must keep. */
function recordedEvents(file: string): AmiBlock[] {
  return parseCaptureFile(readFileSync(fixtureUrl(file), "utf8")).blocks.filter(
    (block) => block[0]?.key === "Event" && !["FullyBooted", "SuccessfulAuth"].includes(block[0].value),
  );
}

describe("ami-simulator", () => {
  it("greets with the one-line banner and nothing else", TEST, async () => {
    await withSimulator({}, async (simulator) => {
      const client = await connectAmiTestClient(simulator.port);
      assert.equal(await client.banner, "Asterisk Call Manager/9.0.0");
      await sleep(30);
      assert.equal(client.received(), "Asterisk Call Manager/9.0.0\r\n");
      client.close();
    });
  });

  it("logs in as Asterisk does: ack, FullyBooted, then the SuccessfulAuth security event", TEST, async () => {
    await withSimulator({}, async (simulator) => {
      const client = await connectAmiTestClient(simulator.port);
      await client.banner;
      client.sendRaw("Action: Login\r\nActionID: crm-1\r\nUsername: callmesh\r\nSecret: callmesh\r\n\r\n");
      const auth = await client.waitFor(isEvent("SuccessfulAuth"));
      assert.match(
        client.received(),
        /^Asterisk Call Manager\/9\.0\.0\r\nResponse: Success\r\nActionID: crm-1\r\nMessage: Authentication accepted\r\n\r\nEvent: FullyBooted\r\nPrivilege: system,all\r\nUptime: \d+\r\nLastReload: \d+\r\nStatus: Fully Booted\r\n\r\nEvent: SuccessfulAuth\r\n/,
      );
      assert.deepEqual(
        auth.map(({ key }) => key),
        [
          "Event",
          "Privilege",
          "Timestamp",
          "EventTV",
          "Severity",
          "Service",
          "EventVersion",
          "AccountID",
          "SessionID",
          "LocalAddress",
          "RemoteAddress",
          "UsingPassword",
          "SessionTV",
        ],
      );
      assert.equal(blockValue(auth, "AccountID"), "callmesh");
      assert.equal(blockValue(auth, "LocalAddress"), `IPV4/TCP/127.0.0.1/${simulator.port}`);
      client.close();
    });
  });

  it("refuses a wrong secret after a delay, then hangs up", TEST, async () => {
    await withSimulator({ authFailureDelayMs: 100 }, async (simulator) => {
      const client = await connectAmiTestClient(simulator.port);
      await client.banner;
      const start = performance.now();
      client.sendRaw("action: login\nactionid: bad\nusername: callmesh\nsecret: wrong\n\n");
      await client.closed;
      assert.ok(performance.now() - start >= 95);
      assert.equal(
        client.received(),
        "Asterisk Call Manager/9.0.0\r\nResponse: Error\r\nActionID: bad\r\nMessage: Authentication failed\r\n\r\n",
      );
    });
  });

  it("answers before login only Login, Logoff and Challenge", TEST, async () => {
    await withSimulator({}, async (simulator) => {
      const client = await connectAmiTestClient(simulator.port);
      client.sendAction([
        ["Action", "Ping"],
        ["ActionID", "p"],
      ]);
      assert.deepEqual(lines(await client.response("p")), [
        ["Response", "Error"],
        ["ActionID", "p"],
        ["Message", "Permission denied"],
      ]);
      client.sendRaw("ActionID: none\r\n\r\n");
      assert.deepEqual(lines(await client.response("none")), [
        ["Response", "Error"],
        ["ActionID", "none"],
        ["Message", "Missing action in request"],
      ]);
      client.sendAction([
        ["Action", "Challenge"],
        ["ActionID", "c"],
        ["AuthType", "MD5"],
      ]);
      const challenge = blockValue(await client.response("c"), "Challenge") ?? "";
      const { createHash } = await import("node:crypto");
      const key = createHash("md5").update(`${challenge}callmesh`).digest("hex");
      client.sendAction([
        ["Action", "Login"],
        ["ActionID", "md5"],
        ["AuthType", "MD5"],
        ["Username", "callmesh"],
        ["Key", key],
      ]);
      assert.equal(blockValue(await client.response("md5"), "Message"), "Authentication accepted");
      client.close();
    });
  });

  it("answers Ping, Events, ExtensionState and unknown actions with Asterisk's fields", TEST, async () => {
    await withSimulator({ extensions: { "1001": "registered", "1002": "unregistered" } }, async (simulator) => {
      const client = await loggedIn(simulator);
      client.sendAction([
        ["Action", "Ping"],
        ["ActionID", "ping-1"],
      ]);
      const ping = await client.response("ping-1");
      assert.deepEqual(
        ping.map(({ key }) => key),
        ["Response", "ActionID", "Ping", "Timestamp"],
      );
      assert.equal(blockValue(ping, "Ping"), "Pong");
      assert.match(blockValue(ping, "Timestamp") ?? "", /^\d{10}\.\d{6}$/);

      client.sendAction([
        ["Action", "Events"],
        ["ActionID", "ev-off"],
        ["EventMask", "off"],
      ]);
      assert.deepEqual(lines(await client.response("ev-off")), [
        ["Response", "Success"],
        ["ActionID", "ev-off"],
        ["Events", "Off"],
      ]);
      client.sendAction([
        ["Action", "Events"],
        ["ActionID", "ev-on"],
        ["EventMask", "on"],
      ]);
      assert.deepEqual(lines(await client.response("ev-on")), [
        ["Response", "Success"],
        ["ActionID", "ev-on"],
        ["Events", "On"],
      ]);

      const state = async (exten: string) => {
        client.sendAction([
          ["Action", "ExtensionState"],
          ["ActionID", `x-${exten}`],
          ["Exten", exten],
          ["Context", "from-internal"],
        ]);
        return lines(await client.response(`x-${exten}`));
      };
      const expected = (exten: string, hint: string, status: string, text: string) => [
        ["Response", "Success"],
        ["ActionID", `x-${exten}`],
        ["Message", "Extension Status"],
        ["Exten", exten],
        ["Context", "from-internal"],
        ["Hint", hint],
        ["Status", status],
        ["StatusText", text],
      ];
      assert.deepEqual(await state("1001"), expected("1001", "PJSIP/1001", "0", "Idle"));
      assert.deepEqual(await state("1002"), expected("1002", "PJSIP/1002", "4", "Unavailable"));
      assert.deepEqual(await state("4242"), expected("4242", "", "-1", "Unknown"));

      client.sendAction([
        ["Action", "CoreSettings"],
        ["ActionID", "core"],
      ]);
      const core = await client.response("core");
      assert.equal(blockValue(core, "AMIversion"), "9.0.0");
      assert.equal(blockValue(core, "AsteriskVersion"), "20.20.1");
      client.sendAction([
        ["Action", "CoreShowChannelz"],
        ["ActionID", "u"],
      ]);
      assert.equal(
        blockValue(await client.response("u"), "Message"),
        "Invalid/unknown command: CoreShowChannelz. Use Action: ListCommands to show available commands.",
      );
      assert.deepEqual(
        simulator.actions.map((action) => action.name),
        [
          "Login",
          "Ping",
          "Events",
          "Events",
          "ExtensionState",
          "ExtensionState",
          "ExtensionState",
          "CoreSettings",
          "CoreShowChannelz",
        ],
      );
      client.close();
    });
  });

  it("says goodbye to Logoff and closes", TEST, async () => {
    await withSimulator({}, async (simulator) => {
      const client = await loggedIn(simulator);
      client.sendAction([
        ["Action", "Logoff"],
        ["ActionID", "bye"],
      ]);
      await client.closed;
      assert.ok(
        client.received().endsWith("Response: Goodbye\r\nActionID: bye\r\nMessage: Thanks for all the fish.\r\n\r\n"),
      );
    });
  });

  it(
    "plays the inbound call with the capture's sequence and key order, fresh ids and the numbers asked for",
    TEST,
    async () => {
      await withSimulator({}, async (simulator) => {
        const client = await loggedIn(simulator);
        const quiet = await loggedIn(simulator, [["Events", "off"]]);
        const stranger = await connectAmiTestClient(simulator.port);
        await client.waitFor(isEvent("SuccessfulAuth"));
        const from = client.blocks.length;
        const start = performance.now();
        await simulator.playInboundAnswered({ from: "+442071234567", did: "35722555105", extension: "1005" });
        assert.ok(performance.now() - start < 500, "timeScale 0 plays at once");
        await client.waitFor(isEvent("QueueMemberStatus"), { from: client.blocks.length - 1 });

        const played = client.blocks.slice(from).filter((block) => block[0]?.key === "Event");
        const recorded = recordedEvents("ast-real-01a-inbound-answered-A.txt");
        assert.deepEqual(
          played.map((block) => block[0]?.value),
          recorded.map((block) => block[0]?.value),
        );
        played.forEach((block, index) => {
          assert.deepEqual(
            block.map(({ key }) => key),
            recorded[index]?.map(({ key }) => key),
          );
        });
        const caller = played.find(isEvent("Newchannel")) ?? [];
        assert.equal(blockValue(caller, "CallerIDNum"), "+442071234567");
        assert.equal(blockValue(caller, "Exten"), "35722555105");
        assert.match(blockValue(caller, "Channel") ?? "", /^PJSIP\/provider-[0-9a-f]{8}$/);
        const linkedid = blockValue(caller, "Uniqueid");
        assert.match(linkedid ?? "", /^\d{10}\.\d+$/);
        assert.notEqual(linkedid, "1796125061.82");
        for (const block of played) {
          const value = blockValue(block, "Linkedid") ?? blockValue(block, "LinkedID");
          if (value !== undefined) assert.equal(value, linkedid);
        }
        const dial = played.find(isEvent("DialBegin")) ?? [];
        assert.match(blockValue(dial, "DestChannel") ?? "", /^PJSIP\/1005-[0-9a-f]{8}$/);
        assert.equal(blockValue(dial, "DestCallerIDName"), "Eve Supervisor");
        const cdr = played.find(isEvent("Cdr")) ?? [];
        assert.equal(blockValue(cdr, "BillableSeconds"), "3");
        assert.equal(blockValue(cdr, "Disposition"), "ANSWERED");

        const stamps = played.map((block) => Number(blockValue(block, "Timestamp")));
        assert.deepEqual(
          stamps,
          [...stamps].sort((a, b) => a - b),
        );
        assert.ok(Math.abs((stamps[0] ?? 0) - Date.now() / 1000) < 2);
        assert.equal(events(quiet).length, 0);
        assert.equal(stranger.blocks.length, 0);
        quiet.close();
        stranger.close();
        client.close();
      });
    },
  );

  it("gives each played call new ids", TEST, async () => {
    await withSimulator({}, async (simulator) => {
      const client = await loggedIn(simulator);
      await simulator.playInboundAnswered();
      await simulator.playOutboundBusy({ extension: "1002", destination: "0044207111222" });
      await client.waitFor((block) => isEvent("Cdr")(block) && blockValue(block, "Disposition") === "BUSY");
      const ids = events(client)
        .filter(isEvent("Newchannel"))
        .map((block) => blockValue(block, "Uniqueid"));
      assert.equal(ids.length, 4);
      assert.equal(new Set(ids).size, 4);
      const busy = events(client).find(
        (block) => isEvent("Newchannel")(block) && blockValue(block, "Channel")?.startsWith("PJSIP/1002-"),
      );
      assert.equal(blockValue(busy ?? [], "Exten"), "0044207111222");
      client.close();
    });
  });

  it(
    "plays a click-to-call Originate: VarSet per requested variable, OriginateResponse echoing the ActionID",
    TEST,
    async () => {
      await withSimulator({}, async (simulator) => {
        const client = await loggedIn(simulator);
        const originated = new Promise((resolve) =>
          simulator.onAction((action) => action.name === "Originate" && resolve(action)),
        );
        client.sendRaw(
          [
            "Action: Originate",
            "ActionID: c2c-42",
            "Channel: Local/1003@from-internal",
            "Context: from-internal",
            "Exten: 0035799000111",
            "Priority: 1",
            'CallerID: "Carol White" <1003>',
            "Timeout: 30000",
            "Async: true",
            "Variable: CALLMESH_CALL_ID=call-42",
            "Variable: CRM_CONTACT=c-7,CRM_TENANT=t-1",
            "",
            "",
          ].join("\r\n"),
        );
        assert.deepEqual(lines(await client.response("c2c-42")), [
          ["Response", "Success"],
          ["ActionID", "c2c-42"],
          ["Message", "Originate successfully queued"],
        ]);
        assert.deepEqual((await originated) as unknown, {
          name: "Originate",
          fields: {
            Action: "Originate",
            ActionID: "c2c-42",
            Channel: "Local/1003@from-internal",
            Context: "from-internal",
            Exten: "0035799000111",
            Priority: "1",
            CallerID: '"Carol White" <1003>',
            Timeout: "30000",
            Async: "true",
            Variable: ["CALLMESH_CALL_ID=call-42", "CRM_CONTACT=c-7,CRM_TENANT=t-1"],
          },
        });
        const response = await client.waitFor(isEvent("OriginateResponse"));
        await client.waitFor(isEvent("QueueMemberStatus"), { from: client.blocks.indexOf(response) + 1 });
        assert.deepEqual(
          response.map(({ key }) => key),
          [
            "Event",
            "Privilege",
            "Timestamp",
            "ActionID",
            "Response",
            "Channel",
            "Context",
            "Exten",
            "Reason",
            "Uniqueid",
            "CallerIDNum",
            "CallerIDName",
          ],
        );
        assert.equal(blockValue(response, "ActionID"), "c2c-42");
        assert.equal(blockValue(response, "Response"), "Success");
        assert.equal(blockValue(response, "Reason"), "4");
        assert.equal(blockValue(response, "Exten"), "0035799000111");
        assert.match(blockValue(response, "Channel") ?? "", /^Local\/1003@from-internal-[0-9a-f]{8};1$/);

        const played = events(client);
        const local1 = blockValue(response, "Channel");
        const local2 = local1?.replace(/;1$/, ";2");
        const varsOn = (channel: string | undefined) =>
          played
            .filter((block) => isEvent("VarSet")(block) && blockValue(block, "Channel") === channel)
            .map((block) => [blockValue(block, "Variable"), blockValue(block, "Value")])
            .filter(([name]) => name?.startsWith("C"));
        const requested = [
          ["CALLMESH_CALL_ID", "call-42"],
          ["CRM_CONTACT", "c-7"],
          ["CRM_TENANT", "t-1"],
        ];
        assert.deepEqual(varsOn(local1), [...requested].reverse());
        assert.deepEqual(varsOn(local2), requested);
        const firstLocal = played.find(
          (block) => isEvent("Newchannel")(block) && blockValue(block, "Channel") === local1,
        );
        assert.equal(blockValue(response, "Uniqueid"), blockValue(firstLocal ?? [], "Uniqueid"));
        const trunk = played.find(
          (block) => isEvent("DialBegin")(block) && blockValue(block, "DestChannel")?.startsWith("PJSIP/provider-"),
        );
        assert.equal(blockValue(trunk ?? [], "DialString"), "0035799000111@provider");
        assert.equal(blockValue(trunk ?? [], "DestLinkedid"), blockValue(response, "Uniqueid"));
        client.close();
      });
    },
  );

  it("fails the Originate of a phone that is away after its Timeout, as Asterisk reports it", TEST, async () => {
    await withSimulator({ timeScale: 0.01, extensions: { "1001": "unregistered" } }, async (simulator) => {
      const client = await loggedIn(simulator);
      const start = performance.now();
      client.sendAction([
        ["Action", "Originate"],
        ["ActionID", "c2c-away"],
        ["Channel", "Local/1001@from-internal"],
        ["Context", "from-internal"],
        ["Exten", "0035799123456"],
        ["Priority", "1"],
        ["CallerID", "1001"],
        ["Timeout", "20000"],
        ["Async", "yes"],
        ["Variable", "CALLMESH_CALL_ID=call-7"],
      ]);
      const response = await client.waitFor(isEvent("OriginateResponse"));
      assert.ok(performance.now() - start >= 190, "rang for the scaled 20 s Timeout");
      assert.deepEqual(lines(response).slice(3), [
        ["ActionID", "c2c-away"],
        ["Response", "Failure"],
        ["Channel", "Local/1001@from-internal"],
        ["Context", "from-internal"],
        ["Exten", "0035799123456"],
        ["Reason", "3"],
        ["Uniqueid", "<unknown>"],
        ["CallerIDNum", "1001"],
        ["CallerIDName", "<unknown>"],
      ]);
      client.sendAction([
        ["Action", "Originate"],
        ["ActionID", "c2c-none"],
        ["Channel", "Local/7777@from-internal"],
        ["Context", "from-internal"],
        ["Exten", "100"],
        ["Priority", "1"],
        ["Async", "true"],
      ]);
      const none = await client.waitFor(
        (block) => isEvent("OriginateResponse")(block) && blockValue(block, "ActionID") === "c2c-none",
      );
      assert.equal(blockValue(none, "Reason"), "0");
      assert.equal(blockValue(none, "Response"), "Failure");
      client.close();
    });
  });

  it("answers a synchronous Originate once the call is answered, without OriginateResponse", TEST, async () => {
    await withSimulator({}, async (simulator) => {
      const client = await loggedIn(simulator);
      client.sendAction([
        ["Action", "Originate"],
        ["ActionID", "sync"],
        ["Channel", "Local/1001@from-internal"],
        ["Context", "from-internal"],
        ["Exten", "0035799123456"],
        ["Priority", "1"],
      ]);
      assert.equal(blockValue(await client.response("sync"), "Message"), "Originate successfully queued");
      await client.waitFor(
        (block) => isEvent("Hangup")(block) && blockValue(block, "Channel")?.endsWith(";2") === true,
      );
      assert.equal(events(client).filter(isEvent("OriginateResponse")).length, 0);
      client.close();
    });
  });

  it("survives garbage from one client while serving the others", TEST, async () => {
    await withSimulator({}, async (simulator) => {
      const noisy = await loggedIn(simulator);
      const other = await loggedIn(simulator);
      noisy.sendRaw(Buffer.from(Array.from({ length: 8192 }, (_, index) => (index * 131) % 256)));
      noisy.sendRaw(Buffer.alloc(70 * 1024, "A"));
      noisy.sendRaw("\r\nActionID: after-long\r\n\r\n");
      const error = await noisy.response("after-long");
      assert.equal(blockValue(error, "Message"), "Failed to parse message: line too long");
      other.sendAction([
        ["Action", "Ping"],
        ["ActionID", "still-there"],
      ]);
      assert.equal(blockValue(await other.response("still-there"), "Ping"), "Pong");
      noisy.sendAction([
        ["Action", "Ping"],
        ["ActionID", "noisy-ping"],
      ]);
      assert.equal(blockValue(await noisy.response("noisy-ping"), "Ping"), "Pong");
      noisy.close();
      other.close();
    });
  });

  it("plays calls in a loop until stopped, in real time scaled", TEST, async () => {
    await withSimulator({ timeScale: 0.01 }, async (simulator) => {
      const client = await loggedIn(simulator);
      const loop = simulator.startCallLoop(20);
      await client.waitFor((block) => isEvent("Cdr")(block) && blockValue(block, "Disposition") === "BUSY", {
        timeoutMs: 3000,
      });
      loop.stop();
      const cdrs = events(client).filter(isEvent("Cdr"));
      assert.equal(blockValue(cdrs[0] ?? [], "Disposition"), "ANSWERED");
      client.close();
    });
  });

  it(
    "dropClients() cuts every connection while calls play on; a client logging in again hears the rest",
    TEST,
    async () => {
      await withSimulator({ timeScale: 0.05 }, async (simulator) => {
        const first = await loggedIn(simulator);
        const second = await loggedIn(simulator);
        const call = simulator.playInboundAnswered();
        await first.waitFor(isEvent("Newchannel"));
        assert.equal(await simulator.dropClients(), 2);
        await Promise.all([first.closed, second.closed]);
        const again = await loggedIn(simulator);
        await again.waitFor(isEvent("Hangup"), { timeoutMs: 3000 });
        await call;
        assert.equal(await simulator.dropClients(), 1);
      });
    },
  );

  it("closes every connection and ends calls in flight on close()", TEST, async () => {
    const simulator = await startAmiSimulator({ timeScale: 1, logger });
    const client = await loggedIn(simulator);
    const call = simulator.playInboundAnswered();
    await client.waitFor(isEvent("Newchannel"));
    const start = performance.now();
    await simulator.close();
    await call;
    await client.closed;
    assert.ok(performance.now() - start < 1000);
    await assert.rejects(connectAmiTestClient(simulator.port));
  });
});
