import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "@callmesh/platform/logging.js";
import { type AmiBlock, blockValue } from "./ami-block.js";
import { type AmiSimulator, startAmiSimulator } from "./ami-simulator.js";
import { type AmiTestClient, connectAmiTestClient } from "./ami-test-client.js";
import { CHANNEL_KEYS } from "./channel-table.js";

const TEST = { timeout: 10_000 };
const logger = createLogger("pbx-sim-test", "silent");

async function withClient(run: (simulator: AmiSimulator, client: AmiTestClient) => Promise<void>, timeScale = 0) {
  const simulator = await startAmiSimulator({ timeScale, authFailureDelayMs: 0, logger });
  const client = await connectAmiTestClient(simulator.port);
  try {
    client.sendAction([
      ["Action", "Login"],
      ["ActionID", "login"],
      ["Username", "callmesh"],
      ["Secret", "callmesh"],
    ]);
    await client.response("login");
    await run(simulator, client);
  } finally {
    client.close();
    await simulator.close();
  }
}

const isEvent = (name: string) => (block: AmiBlock) => block[0]?.key === "Event" && block[0].value === name;
const lines = (block: AmiBlock) => block.map(({ key, value }) => `${key}: ${value}`);

/** Plays the scenario's call up to its action and returns the extension's and the caller's channels. */
async function upAndWaiting(
  simulator: AmiSimulator,
  client: AmiTestClient,
  scenario: Parameters<AmiSimulator["playControlledCall"]>[0],
) {
  const call = simulator.playControlledCall(scenario, { maxWaitMs: 5000 });
  const dial = await client.waitFor(isEvent("DialEnd"));
  await client.waitFor(isEvent("BridgeEnter"));
  return {
    call,
    caller: blockValue(dial, "Channel") ?? "",
    extension: blockValue(dial, "DestChannel") ?? "",
  };
}

describe("ami-simulator call-control actions", () => {
  it("answers actions on unknown channels with Asterisk 20's refusals", TEST, async () => {
    await withClient(async (_simulator, client) => {
      const cases: Array<[string, Array<[string, string]>, string]> = [
        ["Hangup", [["Channel", "PJSIP/1001-00000099"]], "No such channel"],
        ["Hangup", [], "No channel specified"],
        [
          "BlindTransfer",
          [
            ["Channel", "PJSIP/1001-00000099"],
            ["Exten", "1002"],
          ],
          "Channel specified does not exist",
        ],
        ["BlindTransfer", [["Channel", "PJSIP/1001-00000099"]], "No extension specified"],
        [
          "Atxfer",
          [
            ["Channel", "PJSIP/1001-00000099"],
            ["Exten", "1002"],
          ],
          "Channel specified does not exist",
        ],
        ["Park", [["Channel", "PJSIP/provider-00000099"]], "Channel does not exist: PJSIP/provider-00000099"],
        [
          "Redirect",
          [
            ["Channel", "PJSIP/1001-00000099"],
            ["Context", "from-internal"],
            ["Exten", "1002"],
            ["Priority", "1"],
          ],
          "Channel does not exist: PJSIP/1001-00000099",
        ],
        [
          "PlayDTMF",
          [
            ["Channel", "PJSIP/1001-00000099"],
            ["Digit", "1"],
          ],
          "Channel not found",
        ],
        [
          "Bridge",
          [
            ["Channel1", "PJSIP/a-1"],
            ["Channel2", "PJSIP/b-2"],
          ],
          "Channel1 does not exist: PJSIP/a-1",
        ],
        [
          "Getvar",
          [
            ["Channel", "PJSIP/1001-00000099"],
            ["Variable", "CALLMESH_CALL_ID"],
          ],
          "No such channel",
        ],
        ["Getvar", [["Channel", "PJSIP/1001-00000099"]], "No variable specified"],
        [
          "Originate",
          [
            ["Channel", "Local/1005@from-internal"],
            ["Application", "ChanSpy"],
            ["Timeout", "soon"],
          ],
          "Invalid timeout",
        ],
        // main/features.c action_bridge checks both names are given before looking either up.
        ["Bridge", [["Channel1", "PJSIP/a-1"]], "Missing channel parameter in request"],
        // main/manager.c action_redirect: a priority below 1 is invalid; ExtraContext needs the rest.
        [
          "Redirect",
          [
            ["Channel", "PJSIP/1001-00000099"],
            ["Context", "from-internal"],
            ["Exten", "1002"],
            ["Priority", "0"],
          ],
          "Priority is invalid",
        ],
        [
          "Redirect",
          [
            ["Channel", "PJSIP/1001-00000099"],
            ["Context", "callmesh-hold"],
            ["Exten", "hold"],
            ["Priority", "1"],
            ["ExtraChannel", "PJSIP/1002-00000099"],
            ["ExtraContext", "callmesh-hold"],
            ["ExtraExten", "wait"],
          ],
          "ExtraPriority not specified",
        ],
        // res/parking/parking_manager.c manager_park checks Timeout before the channel.
        [
          "Park",
          [
            ["Channel", "PJSIP/provider-00000099"],
            ["Timeout", "soon"],
          ],
          "Invalid Timeout value.",
        ],
      ];
      for (const [index, [action, fields, message]] of cases.entries()) {
        client.sendAction([["Action", action], ["ActionID", `a${index}`], ...fields]);
        const response = await client.response(`a${index}`);
        assert.deepEqual(lines(response), ["Response: Error", `ActionID: a${index}`, `Message: ${message}`], action);
      }
    });
  });

  it(
    "BlindTransfer of the answering extension answers as recorded and plays the rest of ast-real-14n",
    TEST,
    async () => {
      await withClient(async (simulator, client) => {
        const { call, extension } = await upAndWaiting(simulator, client, "blindTransfer");
        client.sendAction([
          ["Action", "BlindTransfer"],
          ["ActionID", "bt"],
          ["Channel", extension],
          ["Exten", "1002"],
          ["Context", "from-internal"],
        ]);
        assert.deepEqual(lines(await client.response("bt")), [
          "Response: Success",
          "ActionID: bt",
          "Message: Transfer succeeded",
        ]);
        const transfer = await client.waitFor(isEvent("BlindTransfer"));
        assert.equal(blockValue(transfer, "TransfererChannel"), extension);
        assert.equal(blockValue(transfer, "Extension"), "1002");
        await call;
        assert.equal(simulator.actions.at(-1)?.name, "BlindTransfer");
      });
    },
  );

  it("Park answers 'Park successful' and plays ast-real-21u's ParkedCall in space 701", TEST, async () => {
    await withClient(async (simulator, client) => {
      const { call, caller, extension } = await upAndWaiting(simulator, client, "park");
      client.sendAction([
        ["Action", "Park"],
        ["ActionID", "pk"],
        ["Channel", caller],
        ["TimeoutChannel", extension],
      ]);
      assert.equal(blockValue(await client.response("pk"), "Message"), "Park successful");
      // As ast-real-21u: parking_manager.c's text ends in a newline before astman's CRLF.
      assert.match(client.received(), /\r\nActionID: pk\r\nMessage: Park successful\n\r\n\r\n/);
      const parked = await client.waitFor(isEvent("ParkedCall"));
      assert.equal(blockValue(parked, "ParkeeChannel"), caller);
      assert.equal(blockValue(parked, "ParkingSpace"), "701");
      await call;
    });
  });

  it(
    "a ChanSpy Originate on the extension's device plays ast-real-19s, its OriginateResponse echoing the ActionID",
    TEST,
    async () => {
      await withClient(async (simulator, client) => {
        const { call, extension } = await upAndWaiting(simulator, client, "spy");
        // Getvar reads what the channel's VarSet events set (manager.c action_getvar's answer).
        const varSet = client.blocks.findLast(
          (block) => isEvent("VarSet")(block) && blockValue(block, "Channel") === extension,
        );
        const variable = blockValue(varSet ?? [], "Variable") ?? "";
        // By Uniqueid too, as ast_channel_get_by_name finds a channel.
        client.sendAction([
          ["Action", "Getvar"],
          ["ActionID", "gv"],
          ["Channel", blockValue(varSet ?? [], "Uniqueid") ?? ""],
          ["Variable", variable],
        ]);
        assert.deepEqual(lines(await client.response("gv")), [
          "Response: Success",
          "ActionID: gv",
          `Variable: ${variable}`,
          `Value: ${blockValue(varSet ?? [], "Value")}`,
        ]);
        client.sendAction([
          ["Action", "Originate"],
          ["ActionID", "spy-7"],
          ["Channel", "Local/1005@from-internal"],
          ["Application", "ChanSpy"],
          ["Data", "PJSIP/1001,q"],
          ["Async", "true"],
          ["Variable", "CALLMESH_CALL_ID=spy-7"],
        ]);
        assert.equal(blockValue(await client.response("spy-7"), "Message"), "Originate successfully queued");
        const response = await client.waitFor(isEvent("OriginateResponse"));
        assert.equal(blockValue(response, "ActionID"), "spy-7");
        assert.equal(blockValue(response, "Application"), "ChanSpy");
        await client.waitFor(isEvent("ChanSpyStart"));
        await call;
        // 19s's Originate had none: the variable is set on both Local halves, as 16p's CRM_ID.
        const varSets = client.blocks
          .filter((block) => isEvent("VarSet")(block) && blockValue(block, "Variable") === "CALLMESH_CALL_ID")
          .map((block) => blockValue(block, "Channel")?.replace(/^Local\/1005@from-internal-[0-9a-f]{8}/, ""));
        assert.deepEqual(varSets, [";1", ";2"]);
      });
    },
  );

  it("Hangup of a channel answers 'Channel Hungup' and hangs up both parties (modeled)", TEST, async () => {
    await withClient(async (simulator, client) => {
      const { call, caller, extension } = await upAndWaiting(simulator, client, "blindTransfer");
      client.sendAction([
        ["Action", "Hangup"],
        ["ActionID", "h"],
        ["Channel", extension],
      ]);
      assert.equal(blockValue(await client.response("h"), "Message"), "Channel Hungup");
      await call;
      const hangups = client.blocks.filter(isEvent("Hangup")).map((block) => blockValue(block, "Channel"));
      assert.deepEqual(hangups.sort(), [caller, extension].sort());
      client.sendAction([
        ["Action", "Hangup"],
        ["ActionID", "h2"],
        ["Channel", extension],
      ]);
      assert.equal(blockValue(await client.response("h2"), "Message"), "No such channel");
    });
  });

  it("Redirect to the hold location plays MusicOnHoldStart, Bridge stops it (modeled)", TEST, async () => {
    await withClient(async (simulator, client) => {
      const { call, caller, extension } = await upAndWaiting(simulator, client, "blindTransfer");
      client.sendAction([
        ["Action", "Redirect"],
        ["ActionID", "r"],
        ["Channel", caller],
        ["Context", "callmesh-hold"],
        ["Exten", "hold"],
        ["Priority", "1"],
        ["ExtraChannel", extension],
        ["ExtraContext", "callmesh-hold"],
        ["ExtraExten", "wait"],
        ["ExtraPriority", "1"],
      ]);
      assert.equal(blockValue(await client.response("r"), "Message"), "Dual Redirect successful");
      assert.equal(blockValue(await client.waitFor(isEvent("MusicOnHoldStart")), "Channel"), caller);
      client.sendAction([
        ["Action", "Bridge"],
        ["ActionID", "b"],
        ["Channel1", caller],
        ["Channel2", extension],
        ["Tone", "no"],
      ]);
      assert.equal(blockValue(await client.response("b"), "Message"), "Channels have been bridged");
      assert.equal(blockValue(await client.waitFor(isEvent("MusicOnHoldStop")), "Channel"), caller);
      client.sendAction([
        ["Action", "PlayDTMF"],
        ["ActionID", "d"],
        ["Channel", caller],
        ["Digit", "5"],
      ]);
      assert.equal(blockValue(await client.response("d"), "Message"), "DTMF successfully queued");
      client.sendAction([
        ["Action", "Hangup"],
        ["ActionID", "h"],
        ["Channel", caller],
      ]);
      await call;
    });
  });

  it(
    "Redirect of a ringing call's caller to a phone cancels the ringing leg and bridges the phone (modeled)",
    TEST,
    async () => {
      await withClient(async (simulator, client) => {
        // Scaled so that the recorded 2 s of ringing leave time for the Redirect.
        const call = simulator.playControlledCall("blindTransfer", { maxWaitMs: 5000 });
        const ringing = await client.waitFor(
          (block) => isEvent("Newstate")(block) && blockValue(block, "ChannelStateDesc") === "Ringing",
        );
        const dial = client.blocks.find(isEvent("DialBegin"));
        const caller = blockValue(dial ?? [], "Channel") ?? "";
        const rung = blockValue(ringing, "Channel") ?? "";
        const from = client.blocks.length;
        client.sendAction([
          ["Action", "Redirect"],
          ["ActionID", "i"],
          ["Channel", caller],
          ["Context", "from-internal"],
          ["Exten", "1007"],
          ["Priority", "1"],
        ]);
        assert.equal(blockValue(await client.response("i"), "Message"), "Redirect successful");
        const entered = await client.waitFor(
          (block) => isEvent("BridgeEnter")(block) && blockValue(block, "Channel") === caller,
          { from },
        );
        const after = client.blocks.slice(from).filter((block) => block[0]?.key === "Event");
        const names = after.map(
          (block) =>
            `${blockValue(block, "Event")} ${blockValue(block, "Channel") ?? blockValue(block, "Device") ?? ""}`,
        );
        const phone = names.find((name) => name.startsWith("Newchannel PJSIP/1007-"))?.split(" ")[1] ?? "";
        assert.match(phone, /^PJSIP\/1007-[0-9a-f]{8}$/);
        assert.deepEqual(names.slice(0, 3), [`DialEnd ${caller}`, `Hangup ${rung}`, "DeviceStateChange PJSIP/1001"]);
        const cancel = after[0] ?? [];
        assert.equal(blockValue(cancel, "DestChannel"), rung);
        assert.equal(blockValue(cancel, "DialStatus"), "CANCEL");
        assert.equal(blockValue(after[1] ?? [], "Cause"), "16");
        const answer = after.find((block) => isEvent("DialEnd")(block) && blockValue(block, "DialStatus") === "ANSWER");
        assert.equal(blockValue(answer ?? [], "DestChannel"), phone);
        // 14n's key order: the dialing channel's block, the dialed one's as Dest*, then DialStatus.
        assert.deepEqual(
          (answer ?? []).map((line) => line.key),
          [
            ...["Event", "Privilege", "Timestamp", ...CHANNEL_KEYS],
            ...CHANNEL_KEYS.map((key) => `Dest${key}`),
            "DialStatus",
          ],
        );
        assert.equal(blockValue(entered, "BridgeNumChannels"), "2");
        assert.ok(names.includes(`Newstate ${caller}`), "the caller is Up");
        assert.ok(
          !client.blocks
            .slice(from)
            .some((block) => blockValue(block, "Channel")?.startsWith("PJSIP/1001-") && isEvent("BridgeEnter")(block)),
        );

        // The call stays up until hung up: then both channels go.
        client.sendAction([
          ["Action", "Hangup"],
          ["ActionID", "h"],
          ["Channel", phone],
        ]);
        await call;
        await client.waitFor((block) => isEvent("Hangup")(block) && blockValue(block, "Channel") === caller, { from });
        const hangups = client.blocks
          .slice(from)
          .filter(isEvent("Hangup"))
          .map((block) => blockValue(block, "Channel"));
        assert.deepEqual(hangups.sort(), [rung, phone, caller].sort());
      }, 0.1);
    },
  );

  it(
    "Redirect of both parties into a room plays ConfbridgeJoin; their hangup leaves the room (modeled)",
    TEST,
    async () => {
      await withClient(async (simulator, client) => {
        const { call, caller, extension } = await upAndWaiting(simulator, client, "blindTransfer");
        const from = client.blocks.length;
        client.sendAction([
          ["Action", "Redirect"],
          ["ActionID", "c"],
          ["Channel", caller],
          ["Context", "from-internal"],
          ["Exten", "sales-weekly"],
          ["Priority", "1"],
          ["ExtraChannel", extension],
          ["ExtraContext", "from-internal"],
          ["ExtraExten", "sales-weekly"],
          ["ExtraPriority", "1"],
        ]);
        assert.equal(blockValue(await client.response("c"), "Message"), "Dual Redirect successful");
        await client.waitFor(
          (block) => isEvent("ConfbridgeJoin")(block) && blockValue(block, "Channel") === extension,
          {
            from,
          },
        );
        const joins = client.blocks.slice(from).filter(isEvent("ConfbridgeJoin"));
        assert.deepEqual(
          joins.map((block) => [
            blockValue(block, "Channel"),
            blockValue(block, "Conference"),
            blockValue(block, "BridgeNumChannels"),
          ]),
          [
            [caller, "sales-weekly", "1"],
            [extension, "sales-weekly", "2"],
          ],
        );
        assert.equal(client.blocks.slice(from).filter(isEvent("Hangup")).length, 0, "nobody is hung up");
        assert.equal(client.blocks.slice(from).filter(isEvent("BridgeLeave")).length, 2);
        // No BlindTransfer is awaited any more: the call only ends by a hangup.
        client.sendAction([
          ["Action", "Hangup"],
          ["ActionID", "h"],
          ["Channel", caller],
        ]);
        await call;
        await client.waitFor((block) => isEvent("Hangup")(block) && blockValue(block, "Channel") === extension, {
          from,
        });
        const tail = client.blocks.slice(from).map((block) => blockValue(block, "Event"));
        assert.deepEqual(
          tail.filter((name) => name === "ConfbridgeLeave" || name === "ConfbridgeEnd" || name === "Hangup"),
          ["ConfbridgeLeave", "Hangup", "ConfbridgeLeave", "ConfbridgeEnd", "Hangup"],
        );
      });
    },
  );

  it(
    "a ChanSpy Originate on a call 19s does not hold plays 19s's supervisor call, with its variables (modeled)",
    TEST,
    async () => {
      await withClient(async (simulator, client) => {
        const { call, caller, extension } = await upAndWaiting(simulator, client, "blindTransfer");
        const from = client.blocks.length;
        client.sendAction([
          ["Action", "Originate"],
          ["ActionID", "spy"],
          ["Channel", "Local/1005@from-internal"],
          ["Application", "ChanSpy"],
          ["Data", "PJSIP/1001,q"],
          ["Timeout", "30000"],
          ["Async", "true"],
          ["Variable", "CALLMESH_CALL_ID=spy-1"],
        ]);
        assert.equal(blockValue(await client.response("spy"), "Message"), "Originate successfully queued");
        const started = await client.waitFor(isEvent("ChanSpyStart"), { from });
        assert.equal(blockValue(started, "SpyeeChannel"), extension);
        assert.match(blockValue(started, "SpyerChannel") ?? "", /^Local\/1005@from-internal-[0-9a-f]{8};1$/);
        const after = client.blocks.slice(from);
        const answered = after.find(isEvent("OriginateResponse"));
        assert.equal(blockValue(answered ?? [], "ActionID"), "spy");
        assert.equal(blockValue(answered ?? [], "Response"), "Success");
        assert.equal(blockValue(answered ?? [], "Data"), "PJSIP/1001,q");
        const varSets = after
          .filter((block) => isEvent("VarSet")(block) && blockValue(block, "Variable") === "CALLMESH_CALL_ID")
          .map((block) => [blockValue(block, "Channel")?.slice(-2), blockValue(block, "Value")]);
        assert.deepEqual(varSets, [
          [";1", "spy-1"],
          [";2", "spy-1"],
        ]);
        const linkedid = blockValue(started, "SpyerLinkedid");
        assert.ok(
          after.every(
            (block) => blockValue(block, "Linkedid") === undefined || blockValue(block, "Linkedid") === linkedid,
          ),
          "only the supervisor's call plays",
        );
        assert.equal(after.filter(isEvent("Hangup")).length, 0, "the supervisor listens");

        // The spied call ends: the rest of the supervisor's call follows.
        client.sendAction([
          ["Action", "Hangup"],
          ["ActionID", "h"],
          ["Channel", caller],
        ]);
        await call;
        await client.waitFor(isEvent("ChanSpyStop"), { from });
        await client.waitFor(
          (block) => isEvent("Hangup")(block) && blockValue(block, "Channel") === blockValue(started, "SpyerChannel"),
          { from },
        );
        const hungUp = client.blocks
          .slice(from)
          .filter(isEvent("Hangup"))
          .map((block) => blockValue(block, "Channel") ?? "");
        assert.equal(hungUp.filter((name) => name.includes("1005")).length, 3, JSON.stringify(hungUp));
      });
    },
  );

  it("a Hangup of the supervisor's channel ends its ChanSpy; the spied call goes on (modeled)", TEST, async () => {
    await withClient(async (simulator, client) => {
      const { call, caller, extension } = await upAndWaiting(simulator, client, "blindTransfer");
      const from = client.blocks.length;
      client.sendAction([
        ["Action", "Originate"],
        ["ActionID", "spy"],
        ["Channel", "Local/1006@from-internal"],
        ["Application", "ChanSpy"],
        ["Data", "PJSIP/1001,qw"],
        ["Async", "true"],
      ]);
      const started = await client.waitFor(isEvent("ChanSpyStart"), { from });
      const spyer = blockValue(started, "SpyerChannel") ?? "";
      assert.match(spyer, /^Local\/1006@from-internal-/);
      assert.equal(blockValue(started, "SpyerCallerIDName"), "Frank Green");
      client.sendAction([
        ["Action", "Hangup"],
        ["ActionID", "h"],
        ["Channel", spyer],
      ]);
      assert.equal(blockValue(await client.response("h"), "Message"), "Channel Hungup");
      await client.waitFor((block) => isEvent("Hangup")(block) && blockValue(block, "Channel") === spyer, { from });
      const hungUp = client.blocks
        .slice(from)
        .filter(isEvent("Hangup"))
        .map((block) => blockValue(block, "Channel"));
      assert.ok(!hungUp.includes(caller) && !hungUp.includes(extension), "the spied call is up");
      client.sendAction([
        ["Action", "Hangup"],
        ["ActionID", "h2"],
        ["Channel", caller],
      ]);
      await call;
    });
  });

  it("CoreShowChannels lists the live channels as an event list, ExtensionStateList every hint", TEST, async () => {
    await withClient(async (simulator, client) => {
      const { call, caller, extension } = await upAndWaiting(simulator, client, "blindTransfer");
      client.sendAction([
        ["Action", "CoreShowChannels"],
        ["ActionID", "cs"],
      ]);
      const start = await client.response("cs");
      assert.deepEqual(lines(start), [
        "Response: Success",
        "ActionID: cs",
        "EventList: start",
        "Message: Channels will follow",
      ]);
      const complete = await client.waitFor(isEvent("CoreShowChannelsComplete"));
      assert.deepEqual(lines(complete), [
        "Event: CoreShowChannelsComplete",
        "ActionID: cs",
        "EventList: Complete",
        "ListItems: 2",
      ]);
      const items = client.blocks.filter(isEvent("CoreShowChannel"));
      assert.deepEqual(
        items.map((item) => blockValue(item, "Channel")),
        [caller, extension],
      );
      const [first] = items;
      assert.deepEqual(
        first?.map(({ key }) => key),
        [
          "Event",
          "ActionID",
          "Channel",
          "ChannelState",
          "ChannelStateDesc",
          "CallerIDNum",
          "CallerIDName",
          "ConnectedLineNum",
          "ConnectedLineName",
          "Language",
          "AccountCode",
          "Context",
          "Exten",
          "Priority",
          "Uniqueid",
          "Linkedid",
          "Application",
          "ApplicationData",
          "Duration",
          "BridgeId",
        ],
      );
      assert.equal(blockValue(first ?? [], "ChannelState"), "6");
      assert.match(blockValue(first ?? [], "BridgeId") ?? "", /^[0-9a-f-]{36}$/);
      assert.equal(blockValue(first ?? [], "Application"), "Dial");
      assert.match(blockValue(first ?? [], "Duration") ?? "", /^00:00:0\d$/);

      client.sendAction([
        ["Action", "ExtensionStateList"],
        ["ActionID", "es"],
      ]);
      assert.equal(blockValue(await client.response("es"), "Message"), "Extension Statuses will follow");
      const done = await client.waitFor(isEvent("ExtensionStateListComplete"));
      assert.equal(blockValue(done, "ListItems"), "12");
      const of1001 = client.blocks.find(
        (block) => isEvent("ExtensionStatus")(block) && blockValue(block, "Exten") === "1001",
      );
      assert.equal(blockValue(of1001 ?? [], "StatusText"), "InUse");
      client.sendAction([
        ["Action", "Hangup"],
        ["ActionID", "h"],
        ["Channel", caller],
      ]);
      await call;
    });
  });
});
