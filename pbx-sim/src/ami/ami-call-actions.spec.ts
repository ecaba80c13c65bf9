import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "@callmesh/platform/logging.js";
import { type AmiBlock, blockValue } from "./ami-block.js";
import { type AmiSimulator, startAmiSimulator } from "./ami-simulator.js";
import { type AmiTestClient, connectAmiTestClient } from "./ami-test-client.js";

const TEST = { timeout: 10_000 };
const logger = createLogger("pbx-sim-test", "silent");

async function withClient(run: (simulator: AmiSimulator, client: AmiTestClient) => Promise<void>) {
  const simulator = await startAmiSimulator({ timeScale: 0, authFailureDelayMs: 0, logger });
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
        const { call } = await upAndWaiting(simulator, client, "spy");
        client.sendAction([
          ["Action", "Originate"],
          ["ActionID", "spy-7"],
          ["Channel", "Local/1005@from-internal"],
          ["Application", "ChanSpy"],
          ["Data", "PJSIP/1001,q"],
          ["Async", "true"],
        ]);
        assert.equal(blockValue(await client.response("spy-7"), "Message"), "Originate successfully queued");
        const response = await client.waitFor(isEvent("OriginateResponse"));
        assert.equal(blockValue(response, "ActionID"), "spy-7");
        assert.equal(blockValue(response, "Application"), "ChanSpy");
        await client.waitFor(isEvent("ChanSpyStart"));
        await call;
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
          "BridgeId",
          "Application",
          "ApplicationData",
          "Duration",
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
