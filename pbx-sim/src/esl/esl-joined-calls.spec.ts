import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "@callmesh/platform/logging.js";
import { frameHeader } from "./esl-capture-file.js";
import { api, named, until, withSubscribedSimulator } from "./esl-control-harness.js";
import { type EslEvent, eventHeader } from "./esl-event.js";
import type { EslSimulator } from "./esl-simulator.js";
import type { EslTestClient } from "./esl-test-client.js";

const TEST = { timeout: 10_000 };
const logger = createLogger("pbx-sim-test", "silent");

const withSimulator = (run: (simulator: EslSimulator, client: EslTestClient) => Promise<void>) =>
  withSubscribedSimulator(logger, run);

const legOf = (simulator: EslSimulator, prefix: string, callstate?: string) =>
  simulator
    .channels()
    .find((row) => row.name.startsWith(prefix) && (callstate === undefined || row.callstate === callstate));

const header = (event: EslEvent | undefined, name: string) => eventHeader(event ?? { headers: [] }, name);

describe("ESL simulator: what intercept, conference and eavesdrop do on calls no capture shows", () => {
  it(
    "uuid_transfer -both into a conference: add-member for both legs, del-member as they are killed",
    TEST,
    async () => {
      await withSimulator(async (simulator, client) => {
        const played = simulator.playControlledCall("answered", { maxWaitMs: 8000 });
        const agent = await until(() => legOf(simulator, "sofia/internal/1001@", "ACTIVE")?.uuid, "1001 answered");
        const caller = legOf(simulator, "sofia/external/")?.uuid ?? "";
        assert.equal(
          await api(client, `uuid_transfer ${caller} -both conference:sales-weekly@default inline`),
          "+OK\n",
        );
        await until(
          () => named(client.events(), "CUSTOM").filter((event) => header(event, "Action") === "add-member")[1],
          "both members added",
        );
        const custom = named(client.events(), "CUSTOM");
        assert.deepEqual(
          custom.map((event) => [header(event, "Action"), header(event, "Unique-ID"), header(event, "Member-ID")]),
          [
            ["conference-create", caller, undefined],
            ["add-member", caller, "1"],
            ["add-member", agent, "2"],
          ],
        );
        const added = custom[1];
        // fs-real-12l's CUSTOM order: Event-Subclass first, then Event-Name.
        assert.deepEqual(added?.headers.slice(0, 2), [
          ["Event-Subclass", "conference::maintenance"],
          ["Event-Name", "CUSTOM"],
        ]);
        assert.equal(header(added, "Conference-Name"), "sales-weekly");
        assert.equal(header(added, "Conference-Profile-Name"), "default");
        assert.equal(named(client.events(), "CHANNEL_UNBRIDGE", caller).length, 1);
        assert.equal(named(client.events(), "CHANNEL_HANGUP").length, 0, "nobody hung up");
        assert.equal(legOf(simulator, "sofia/internal/1001@")?.application, "conference");

        assert.equal(await api(client, `uuid_kill ${caller}`), "+OK\n");
        await played;
        const actions = named(client.events(), "CUSTOM").map((event) => header(event, "Action"));
        assert.deepEqual(actions.slice(3), ["del-member", "del-member", "conference-destroy"]);
        assert.deepEqual(simulator.channels(), []);
      });
    },
  );

  // FreeSWITCH's pickup names the caller's A-leg (the driver does); a B-leg named instead is itself the ringing leg.
  for (const leg of ["caller", "ringing"] as const)
    it(
      `an originate into &intercept(<${leg} leg>) rings and answers the phone, then bridges it to the caller`,
      TEST,
      async () => {
        await withSimulator(async (simulator, client) => {
          const played = simulator.playControlledCall("ringing", { maxWaitMs: 8000 });
          const ringing = await until(() => legOf(simulator, "sofia/internal/1001@")?.uuid, "1001 rings");
          const caller = legOf(simulator, "sofia/external/")?.uuid ?? "";
          await until(
            () => (named(client.events(), "CHANNEL_PROGRESS", ringing).length > 0 ? true : undefined),
            "ringing",
          );
          const target = leg === "caller" ? caller : ringing;
          const reply = await client.command(
            `bgapi originate {origination_caller_id_number=1004,originate_timeout=30}user/1004 &intercept(${target})`,
          );
          const jobUuid = frameHeader(reply, "Job-UUID") ?? "";
          const job = await until(
            () => named(client.events(), "BACKGROUND_JOB").find((event) => header(event, "Job-UUID") === jobUuid),
            "the originate's BACKGROUND_JOB",
          );
          const phone = /^\+OK ([0-9a-f-]{36})\n$/.exec(job.body ?? "")?.[1] ?? "";
          assert.ok(phone !== "", JSON.stringify(job.body));
          const bridged = await until(() => named(client.events(), "CHANNEL_BRIDGE", caller)[0], "the caller bridged");
          assert.equal(header(bridged, "Other-Leg-Unique-ID"), phone);
          assert.equal(header(bridged, "Bridge-B-Unique-ID"), phone);
          assert.match(header(bridged, "Other-Leg-Channel-Name") ?? "", /^sofia\/internal\/1004@127\.0\.0\.1:6004$/);
          // 19s's CHANNEL_BRIDGE order: the stamp, Bridge-A/B, the leg's data, then Other-Type and Other-Leg-*.
          const keys = bridged.headers.map(([key]) => key);
          assert.equal(keys.indexOf("Bridge-A-Unique-ID"), keys.indexOf("Event-Sequence") + 1);
          assert.ok(keys.indexOf("Other-Type") > keys.lastIndexOf("Caller-Privacy-Hide-Number"));
          const executed = named(client.events(), "CHANNEL_EXECUTE", phone)[0];
          assert.equal(header(executed, "Application"), "intercept");
          assert.equal(header(executed, "Application-Data"), target);
          const picked = named(client.events(), "CHANNEL_HANGUP_COMPLETE", ringing)[0];
          assert.equal(header(picked, "Hangup-Cause"), "PICKED_OFF");
          assert.equal(header(picked, "variable_hangup_cause_q850"), "16");
          assert.equal(named(client.events(), "CHANNEL_ANSWER", caller).length, 1);
          // 1001 never answers as recorded: the held call is the intercept's now.
          assert.equal(named(client.events(), "CHANNEL_ANSWER", ringing).length, 0);

          assert.equal(await api(client, `uuid_kill ${caller}`), "+OK\n");
          await played;
          assert.equal(named(client.events(), "CHANNEL_HANGUP_COMPLETE", phone).length, 1);
          assert.deepEqual(simulator.channels(), []);
        });
      },
    );

  it(
    "an originate into &eavesdrop of a leg 19s does not hold plays 19s's supervisor leg until the spied leg goes",
    TEST,
    async () => {
      await withSimulator(async (simulator, client) => {
        const played = simulator.playControlledCall("answered", { maxWaitMs: 8000 });
        const agent = await until(() => legOf(simulator, "sofia/internal/1001@", "ACTIVE")?.uuid, "1001 answered");
        const caller = legOf(simulator, "sofia/external/")?.uuid ?? "";
        await client.command(
          `bgapi originate {callmesh_call_id=spy-1,origination_caller_id_number=1005,originate_timeout=30}user/1005 &eavesdrop(${agent})`,
        );
        const bug = await until(() => named(client.events(), "MEDIA_BUG_START", agent)[0], "MEDIA_BUG_START");
        assert.equal(header(bug, "Media-Bug-Function"), "eavesdrop");
        assert.equal(header(bug, "Media-Bug-Target"), agent);
        assert.equal(header(bug, "Channel-Call-UUID"), caller, "the spied leg's own channel data");
        const supervisor = legOf(simulator, "sofia/internal/1005@");
        assert.equal(supervisor?.application, "eavesdrop");
        const created = named(client.events(), "CHANNEL_CREATE", supervisor?.uuid)[0];
        assert.equal(header(created, "variable_callmesh_call_id"), "spy-1", "the originate's variables on its leg");
        assert.equal(named(client.events(), "CHANNEL_HANGUP", supervisor?.uuid).length, 0, "it listens");

        assert.equal(await api(client, `uuid_kill ${caller}`), "+OK\n");
        await played;
        await until(() => named(client.events(), "CHANNEL_DESTROY", supervisor?.uuid)[0], "the supervisor's leg ends");
        assert.equal(named(client.events(), "MEDIA_BUG_STOP", agent).length, 1);
        assert.deepEqual(simulator.channels(), []);
      });
    },
  );

  it("uuid_kill of a supervisor's leg plays 19s's hangup of it; the spied call goes on", TEST, async () => {
    await withSimulator(async (simulator, client) => {
      const played = simulator.playControlledCall("answered", { maxWaitMs: 8000 });
      const agent = await until(() => legOf(simulator, "sofia/internal/1001@", "ACTIVE")?.uuid, "1001 answered");
      const caller = legOf(simulator, "sofia/external/")?.uuid ?? "";
      await client.command(`bgapi originate {originate_timeout=30}user/1006 &eavesdrop(${agent})`);
      await until(() => named(client.events(), "MEDIA_BUG_START", agent)[0], "MEDIA_BUG_START");
      const supervisor = legOf(simulator, "sofia/internal/1006@")?.uuid ?? "";
      assert.equal(await api(client, `uuid_kill ${supervisor}`), "+OK\n");
      await until(() => named(client.events(), "CHANNEL_DESTROY", supervisor)[0], "the supervisor's leg ends");
      assert.equal(named(client.events(), "CHANNEL_HANGUP_COMPLETE", supervisor).length, 1);
      assert.equal(named(client.events(), "MEDIA_BUG_STOP", agent).length, 1);
      assert.ok(legOf(simulator, "sofia/internal/1001@", "ACTIVE"), "the spied call is up");
      assert.equal(await api(client, `uuid_kill ${caller}`), "+OK\n");
      await played;
    });
  });
});
