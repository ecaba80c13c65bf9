import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "@callmesh/platform/logging.js";
import { frameHeader } from "./esl-capture-file.js";
import { api, named, until, withSubscribedSimulator } from "./esl-control-harness.js";
import { eventHeader, eventName } from "./esl-event.js";
import type { EslSimulator } from "./esl-simulator.js";
import type { EslTestClient } from "./esl-test-client.js";

const TEST = { timeout: 10_000 };
const logger = createLogger("pbx-sim-test", "silent");

const withSimulator = (run: (simulator: EslSimulator, client: EslTestClient) => Promise<void>) =>
  withSubscribedSimulator(logger, run);

/** The live legs of the played call once 1001 answered: the caller's and 1001's uuids. */
async function answeredLegs(simulator: EslSimulator) {
  return until(() => {
    const rows = simulator.channels();
    const agent = rows.find((row) => row.name.startsWith("sofia/internal/1001@") && row.callstate === "ACTIVE");
    const caller = rows.find((row) => row.name.startsWith("sofia/external/"));
    return agent && caller ? { agent: agent.uuid, caller: caller.uuid } : undefined;
  }, "1001 answered");
}

describe("ESL simulator: call-control api commands", () => {
  it("refuses unknown uuids with FreeSWITCH 1.10's texts", TEST, async () => {
    await withSimulator(async (_simulator, client) => {
      const nobody = "00000000-0000-4000-8000-000000000000";
      assert.equal(await api(client, `uuid_kill ${nobody}`), "-ERR No such channel!\n");
      assert.equal(await api(client, `uuid_transfer ${nobody} -bleg 1002 XML default`), "-ERR No such channel!\n");
      // switch_ivr_hold_uuid / switch_ivr_unhold_uuid answer success when no session has the uuid.
      assert.equal(await api(client, `uuid_hold ${nobody}`), "+OK Success\n");
      assert.equal(await api(client, `uuid_hold off ${nobody}`), "+OK Success\n");
      assert.equal(await api(client, "uuid_hold"), "-USAGE: [off|toggle] <uuid> [<display>]\n-ERR Operation failed\n");
      assert.equal(await api(client, `uuid_send_dtmf ${nobody} 12`), "-ERR Cannot locate session!\n");
      assert.equal(await api(client, `uuid_broadcast ${nobody} att_xfer::user/1003 aleg`), "-ERR invalid uuid\n");
      assert.equal(await api(client, "uuid_kill"), "-USAGE: <uuid> [cause]\n");
      assert.equal(
        await api(client, `originate {originate_timeout=20}user/1099 &eavesdrop(${nobody})`),
        "-ERR SUBSCRIBER_ABSENT\n",
      );
    });
  });

  it("uuid_hold / uuid_hold off fire CHANNEL_HOLD / CHANNEL_UNHOLD; uuid_kill hangs up both legs", TEST, async () => {
    await withSimulator(async (simulator, client) => {
      const played = simulator.playControlledCall("answered", { maxWaitMs: 8000 });
      const { agent, caller } = await answeredLegs(simulator);
      assert.equal(await api(client, `uuid_hold off ${caller}`), "-ERR Operation failed\n");
      assert.equal(await api(client, `uuid_hold ${caller}`), "+OK Success\n");
      await until(() => named(client.events(), "CHANNEL_HOLD", caller)[0], "CHANNEL_HOLD");
      // switch_ivr_hold: "Call is already on hold".
      assert.equal(await api(client, `uuid_hold ${caller}`), "-ERR Operation failed\n");
      assert.equal(
        eventHeader(named(client.events(), "CHANNEL_HOLD", caller)[0] ?? { headers: [] }, "Channel-Call-State"),
        "HELD",
      );
      assert.equal(await api(client, `uuid_hold off ${caller}`), "+OK Success\n");
      await until(() => named(client.events(), "CHANNEL_UNHOLD", caller)[0], "CHANNEL_UNHOLD");
      assert.equal(await api(client, `uuid_send_dtmf ${agent} 12#`), `+OK ${agent} sent DTMF 12#.\n`);
      // answer_uepoch is set at hangup only; the answer time is in the channel's data.
      assert.equal(await api(client, `uuid_getvar ${agent} answer_uepoch`), "_undef_");
      const dump = JSON.parse(await api(client, `uuid_dump ${agent} json`)) as Record<string, string>;
      assert.match(dump["Caller-Channel-Answered-Time"] ?? "", /^\d{16}$/);
      assert.equal(dump["Unique-ID"], agent);
      // uuid_dump_function's own CHANNEL_DATA event.
      assert.equal(dump["Event-Name"], "CHANNEL_DATA");
      assert.equal(dump["Event-Calling-Function"], "uuid_dump_function");
      // txt (the default): switch_event_serialize with URL-encoded values, ending in a blank line.
      const text = await api(client, `uuid_dump ${agent}`);
      assert.match(text, /^Event-Name: CHANNEL_DATA\n/);
      assert.match(text, /\nChannel-Name: sofia\/internal\/1001%40/);
      assert.match(text, /\n\n$/);
      const shown = JSON.parse(await api(client, "show channels as json")) as { rows: Record<string, string>[] };
      assert.deepEqual(
        shown.rows.map((row) => row.call_uuid),
        [caller, caller],
      );
      assert.equal(await api(client, `uuid_kill ${caller}`), "+OK\n");
      await played;
      for (const uuid of [caller, agent]) {
        const complete = named(client.events(), "CHANNEL_HANGUP_COMPLETE", uuid);
        assert.equal(complete.length, 1, uuid);
        assert.equal(eventHeader(complete[0] ?? { headers: [] }, "Hangup-Cause"), "NORMAL_CLEARING");
      }
      assert.deepEqual(simulator.channels(), []);
    });
  });

  it("uuid_transfer -bleg of a call waiting for it plays the rest of fs-real-14n", TEST, async () => {
    await withSimulator(async (simulator, client) => {
      const played = simulator.playControlledCall("blindTransfer", { maxWaitMs: 8000 });
      const { agent, caller } = await answeredLegs(simulator);
      assert.equal(await api(client, `uuid_transfer ${agent} -bleg 1002 XML default`), "+OK\n");
      await played;
      const events = client.events();
      const bridged = named(events, "CHANNEL_BRIDGE", caller).map((event) =>
        eventHeader(event, "Other-Leg-Channel-Name"),
      );
      assert.ok(
        bridged.some((name) => name?.startsWith("sofia/internal/1002@")),
        JSON.stringify(bridged),
      );
      // An api (not bgapi) has no BACKGROUND_JOB; the API event is the recorded one.
      assert.equal(named(events, "BACKGROUND_JOB").length, 0);
      const apiEvent = named(events, "API").find((event) => eventHeader(event, "API-Command") === "uuid_transfer");
      assert.equal(eventHeader(apiEvent ?? { headers: [] }, "API-Command-Argument"), `${agent} -bleg 1002 XML default`);
    });
  });

  it("bgapi uuid_broadcast att_xfer plays fs-real-15o with the client's Job-UUID", TEST, async () => {
    await withSimulator(async (simulator, client) => {
      const played = simulator.playControlledCall("attendedTransfer", { maxWaitMs: 8000 });
      const { agent } = await answeredLegs(simulator);
      const reply = await client.command(`bgapi uuid_broadcast ${agent} att_xfer::user/1003 aleg`);
      const jobUuid = frameHeader(reply, "Job-UUID");
      await played;
      const job = named(client.events(), "BACKGROUND_JOB").find((event) => eventHeader(event, "Job-UUID") === jobUuid);
      assert.equal(job?.body, "+OK Message sent\n");
      assert.ok(
        named(client.events(), "CHANNEL_CREATE").some((event) =>
          eventHeader(event, "Channel-Name")?.startsWith("sofia/internal/1003@"),
        ),
      );
    });
  });

  it("originate &eavesdrop on a spy call plays fs-real-19s; park's uuid_transfer plays 21u", TEST, async () => {
    await withSimulator(async (simulator, client) => {
      const spied = simulator.playControlledCall("spy", { maxWaitMs: 8000 });
      const { agent } = await answeredLegs(simulator);
      const reply = await client.command(
        `bgapi originate {callmesh_call_id=spy-7,originate_timeout=20}user/1005 &eavesdrop(${agent})`,
      );
      assert.match(frameHeader(reply, "Reply-Text") ?? "", /^\+OK Job-UUID: /);
      await spied;
      assert.ok(named(client.events(), "MEDIA_BUG_START").length > 0);
      // The originate's variables sit on the supervisor's leg where 19s's recorded ones were.
      const created = client
        .events()
        .find(
          (event) => eventName(event) === "CHANNEL_CREATE" && eventHeader(event, "Channel-Name")?.includes("1005@"),
        );
      assert.equal(eventHeader(created ?? { headers: [] }, "variable_callmesh_call_id"), "spy-7");
      assert.equal(eventHeader(created ?? { headers: [] }, "variable_origination_caller_id_name"), undefined);

      const parked = simulator.playControlledCall("park", { maxWaitMs: 8000 });
      const legs = await answeredLegs(simulator);
      assert.equal(await api(client, `uuid_transfer ${legs.agent} -bleg 701 XML default`), "+OK\n");
      await parked;
      assert.ok(
        named(client.events(), "CHANNEL_EXECUTE", legs.caller).some(
          (event) => eventHeader(event, "Application") === "valet_park",
        ),
      );
    });
  });
});
