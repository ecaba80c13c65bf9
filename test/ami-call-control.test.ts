// Call control on Asterisk: the AMI driver against the AMI simulator over TCP. Each command
// sends the action Asterisk needs (the simulator records it), and the call's events change as
// the recorded captures show (ast-real-14n, 15o, 19s, 21u) or as Asterisk 20 is modeled to.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type Command,
  CommandSchema,
  CommandStatus,
  SpyMode,
  TransferMode,
} from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { ActiveCallState } from "@callmesh/gen/callmesh/events/v1/active_call_pb.js";
import { type CallEvent, CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import type { Presence } from "@callmesh/gen/callmesh/events/v1/presence_pb.js";
import { PresenceState } from "@callmesh/gen/callmesh/events/v1/presence_pb.js";
import { createCommandRunner } from "@callmesh/pbx-agent/command-runner.js";
import { type AmiDriver, createAmiDriver } from "@callmesh/pbx-agent/drivers/ami/ami-driver.js";
import type { CommandOutcome } from "@callmesh/pbx-agent/ports/pbx-driver.js";
import {
  type AmiSimulator,
  type ControlScenario,
  type ReceivedAction,
  startAmiSimulator,
} from "@callmesh/pbx-sim/ami/ami-simulator.js";
import { createLogger } from "@callmesh/platform/logging.js";

const TEST = { timeout: 20_000 };
const logger = createLogger("ami-call-control-test", "silent");

async function until<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 8000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("call control on Asterisk (AMI driver ↔ AMI simulator)", () => {
  let sim: AmiSimulator;
  let driver: AmiDriver;
  let run: (command: Command) => Promise<CommandOutcome>;
  let events: CallEvent[];
  let presence: Presence[];

  beforeEach(async () => {
    sim = await startAmiSimulator({ timeScale: 0.2, logger });
    driver = createAmiDriver({
      host: "127.0.0.1",
      port: sim.port,
      username: "callmesh",
      secret: "callmesh",
      agentId: "agent-ast",
      logger,
      cdrGraceMs: 50,
    });
    events = [];
    presence = [];
    driver.onOutput((output) => {
      if (output.kind === "event") events.push(output.event);
    });
    driver.onPresence((change) => presence.push(change));
    run = createCommandRunner(driver);
    driver.start();
    await until(() => driver.connected, "logged in");
    // The login's ExtensionStateList is in: presence changes from here on are the calls'.
    await until(() => presence.length >= 12, "presence of every extension");
  });

  afterEach(async () => {
    await driver.stop();
    await sim.close();
  });

  const command = (action: MessageInitShape<typeof CommandSchema>["action"]) =>
    run(create(CommandSchema, { commandId: "c1", action }));
  const kinds = (callId: string) => events.filter((event) => event.callId === callId).map((event) => event.kind);
  const actionsNamed = (name: string) => sim.actions.filter((action) => action.name === name);
  const field = (action: ReceivedAction | undefined, key: string) => action?.fields[key];

  /** Plays the scenario's inbound call until 1001 answered it; returns the call's id and the played call. */
  async function answeredCall(scenario: ControlScenario) {
    const played = sim.playControlledCall(scenario, { maxWaitMs: 10_000 });
    const answered = await until(() => events.find((event) => event.kind === CallEventKind.ANSWERED), "ANSWERED");
    // The bridge is up once the call waits: the extension's channel is Up and bridged.
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { callId: answered.callId, played };
  }

  it("an unknown call id is CALL_NOT_FOUND and nothing reaches the PBX", TEST, async () => {
    const before = sim.actions.length;
    for (const action of [
      { case: "hangup", value: { callId: "nope" } },
      { case: "transfer", value: { callId: "nope", destination: "1002" } },
      { case: "park", value: { callId: "nope" } },
      { case: "listCalls", value: { callId: "nope" } },
    ] as MessageInitShape<typeof CommandSchema>["action"][]) {
      const outcome = await command(action);
      assert.equal(outcome.status, CommandStatus.CALL_NOT_FOUND, action?.case);
    }
    assert.equal(sim.actions.length, before);
  });

  it(
    "ListCalls shows the call in progress; Hangup hangs up each party and the call ends with HANGUP",
    TEST,
    async () => {
      const { callId, played } = await answeredCall("blindTransfer");
      const listed = await command({ case: "listCalls", value: { callId: "" } });
      assert.equal(listed.status, CommandStatus.OK);
      assert.equal(listed.detail?.case, "calls");
      const [active] = listed.detail?.case === "calls" ? listed.detail.value.calls : [];
      assert.equal(active?.callId, callId);
      assert.equal(active?.state, ActiveCallState.ANSWERED);
      assert.equal(active?.answeredBy, "1001");
      assert.equal(active?.fromNumber, "+35799123456");
      assert.equal(active?.legs.length, 2);
      assert.deepEqual(active?.ringingExtensions, []);

      assert.equal(
        (await command({ case: "hangup", value: { callId, party: "9999" } })).status,
        CommandStatus.WRONG_CALL_STATE,
      );
      const outcome = await command({ case: "hangup", value: { callId } });
      assert.equal(outcome.status, CommandStatus.OK, outcome.message);
      await played;
      await until(() => kinds(callId).includes(CallEventKind.HANGUP), "HANGUP");
      const hangups = actionsNamed("Hangup");
      assert.match(String(field(hangups[0], "Channel")), /^PJSIP\/provider-[0-9a-f]{8}$/);
      assert.equal(kinds(callId).filter((kind) => kind === CallEventKind.HANGUP).length, 1);
      assert.equal((await command({ case: "hangup", value: { callId } })).status, CommandStatus.CALL_NOT_FOUND);
    },
  );

  it(
    "a blind transfer sends BlindTransfer of the answering extension and the call is TRANSFERRED to 1002",
    TEST,
    async () => {
      const { callId, played } = await answeredCall("blindTransfer");
      const outcome = await command({
        case: "transfer",
        value: { callId, destination: "1002", mode: TransferMode.BLIND },
      });
      assert.equal(outcome.status, CommandStatus.OK, outcome.message);
      assert.equal(outcome.message, "Transfer succeeded");
      const [sent] = actionsNamed("BlindTransfer");
      assert.match(String(field(sent, "Channel")), /^PJSIP\/1001-[0-9a-f]{8}$/);
      assert.equal(field(sent, "Exten"), "1002");
      assert.equal(field(sent, "Context"), "from-internal");
      await played;
      const transferred = await until(
        () => events.find((event) => event.callId === callId && event.kind === CallEventKind.TRANSFERRED),
        "TRANSFERRED",
      );
      assert.equal(transferred.transferredTo, "1002");
      await until(() => kinds(callId).includes(CallEventKind.HANGUP), "HANGUP");
    },
  );

  it("an attended transfer sends Atxfer and the call is TRANSFERRED to the consulted 1003", TEST, async () => {
    const { callId, played } = await answeredCall("attendedTransfer");
    const outcome = await command({
      case: "transfer",
      value: { callId, destination: "1003", mode: TransferMode.ATTENDED },
    });
    assert.equal(outcome.status, CommandStatus.OK, outcome.message);
    const [sent] = actionsNamed("Atxfer");
    assert.match(String(field(sent, "Channel")), /^PJSIP\/1001-/);
    assert.equal(field(sent, "Exten"), "1003");
    await played;
    const transferred = await until(
      () => events.find((event) => event.callId === callId && event.kind === CallEventKind.TRANSFERRED),
      "TRANSFERRED",
    );
    assert.equal(transferred.transferredTo, "1003");
  });

  it("Park sends Park of the caller with 1001 as TimeoutChannel and answers parked_at 701", TEST, async () => {
    const { callId, played } = await answeredCall("park");
    const outcome = await command({ case: "park", value: { callId } });
    assert.equal(outcome.status, CommandStatus.OK, outcome.message);
    assert.deepEqual(outcome.detail, { case: "parkedAt", value: "701" });
    const listed = await command({ case: "listCalls", value: { callId } });
    const [parked] = listed.detail?.case === "calls" ? listed.detail.value.calls : [];
    assert.equal(parked?.state, ActiveCallState.PARKED);
    assert.equal(parked?.parkedAt, "701");
    const [sent] = actionsNamed("Park");
    assert.match(String(field(sent, "Channel")), /^PJSIP\/provider-/);
    assert.match(String(field(sent, "TimeoutChannel")), /^PJSIP\/1001-/);
    await until(() => kinds(callId).includes(CallEventKind.HELD), "HELD");
    await played;
    const transferred = await until(
      () => events.find((event) => event.callId === callId && event.kind === CallEventKind.TRANSFERRED),
      "TRANSFERRED (picked up)",
    );
    assert.equal(transferred.transferredTo, "1002");
  });

  it(
    "Spy originates ChanSpy for the supervisor as ast-real-19s, and the supervisor's call stays out of the CRM",
    TEST,
    async () => {
      const { callId, played } = await answeredCall("spy");
      const outcome = await command({ case: "spy", value: { callId, supervisor: "1005", mode: SpyMode.LISTEN } });
      assert.equal(outcome.status, CommandStatus.OK, outcome.message);
      const [sent] = actionsNamed("Originate");
      assert.equal(field(sent, "Channel"), "Local/1005@from-internal");
      assert.equal(field(sent, "Application"), "ChanSpy");
      assert.equal(field(sent, "Data"), "PJSIP/1001,q");
      assert.equal(field(sent, "Async"), "true");
      await played;
      await until(() => kinds(callId).includes(CallEventKind.HANGUP), "HANGUP");
      assert.deepEqual(
        [...new Set(events.map((event) => event.callId))],
        [callId],
        "no event of the supervisor's call",
      );
    },
  );

  it("whisper and barge are ChanSpy's w and B options", TEST, async () => {
    const { callId } = await answeredCall("blindTransfer");
    await command({ case: "spy", value: { callId, supervisor: "1005", mode: SpyMode.WHISPER } });
    await command({ case: "spy", value: { callId, supervisor: "1005", mode: SpyMode.BARGE } });
    assert.deepEqual(
      actionsNamed("Originate").map((action) => field(action, "Data")),
      ["PJSIP/1001,qw", "PJSIP/1001,qB"],
    );
  });

  it("Hold redirects the caller to music on hold (HELD), Resume bridges them again (RESUMED)", TEST, async () => {
    const { callId } = await answeredCall("blindTransfer");
    const held = await command({ case: "hold", value: { callId } });
    assert.equal(held.status, CommandStatus.OK, held.message);
    const [redirect] = actionsNamed("Redirect");
    assert.match(String(field(redirect, "Channel")), /^PJSIP\/provider-/);
    assert.equal(field(redirect, "Context"), "callmesh-hold");
    assert.equal(field(redirect, "Exten"), "hold");
    assert.match(String(field(redirect, "ExtraChannel")), /^PJSIP\/1001-/);
    assert.equal(field(redirect, "ExtraExten"), "wait");
    await until(() => kinds(callId).includes(CallEventKind.HELD), "HELD");
    const listed = await command({ case: "listCalls", value: { callId } });
    assert.equal(
      listed.detail?.case === "calls" ? listed.detail.value.calls[0]?.state : undefined,
      ActiveCallState.HELD,
    );
    assert.equal((await command({ case: "hold", value: { callId } })).status, CommandStatus.WRONG_CALL_STATE);

    const resumed = await command({ case: "resume", value: { callId } });
    assert.equal(resumed.status, CommandStatus.OK, resumed.message);
    const [bridge] = actionsNamed("Bridge");
    assert.equal(field(bridge, "Channel1"), field(redirect, "Channel"));
    assert.equal(field(bridge, "Channel2"), field(redirect, "ExtraChannel"));
    await until(() => kinds(callId).includes(CallEventKind.RESUMED), "RESUMED");
    assert.equal((await command({ case: "resume", value: { callId } })).status, CommandStatus.WRONG_CALL_STATE);
  });

  it("SendDtmf plays each digit to the other party; bad digits are refused before the PBX", TEST, async () => {
    const { callId } = await answeredCall("blindTransfer");
    const outcome = await command({ case: "sendDtmf", value: { callId, digits: "12#" } });
    assert.equal(outcome.status, CommandStatus.OK, outcome.message);
    const sent = actionsNamed("PlayDTMF");
    assert.deepEqual(
      sent.map((action) => field(action, "Digit")),
      ["1", "2", "#"],
    );
    assert.match(String(field(sent[0], "Channel")), /^PJSIP\/provider-/);
    assert.equal(
      (await command({ case: "sendDtmf", value: { callId, digits: "1\r\nAction: Hangup" } })).status,
      CommandStatus.PBX_REFUSED,
    );
    assert.equal(actionsNamed("PlayDTMF").length, 3);
  });

  it("AddToConference redirects both parties together into the room", TEST, async () => {
    const { callId } = await answeredCall("blindTransfer");
    const outcome = await command({ case: "addToConference", value: { callId, room: "sales-weekly" } });
    assert.equal(outcome.status, CommandStatus.OK, outcome.message);
    assert.equal(outcome.message, "Dual Redirect successful");
    const [redirect] = actionsNamed("Redirect");
    assert.equal(field(redirect, "Context"), "from-internal");
    assert.equal(field(redirect, "Exten"), "sales-weekly");
    assert.equal(field(redirect, "ExtraExten"), "sales-weekly");
  });

  it(
    "Intercept needs a ringing call: an answered one is WRONG_CALL_STATE, a ringing one redirects the caller",
    TEST,
    async () => {
      const played = sim.playControlledCall("blindTransfer", { maxWaitMs: 10_000 });
      const ringing = await until(() => events.find((event) => event.kind === CallEventKind.RINGING), "RINGING");
      const outcome = await command({ case: "intercept", value: { callId: ringing.callId, extension: "1007" } });
      if (events.some((event) => event.kind === CallEventKind.ANSWERED)) {
        // The recorded ring is short: answered meanwhile.
        assert.equal(outcome.status, CommandStatus.WRONG_CALL_STATE);
      } else {
        assert.equal(outcome.status, CommandStatus.OK, outcome.message);
        const [redirect] = actionsNamed("Redirect");
        assert.match(String(field(redirect, "Channel")), /^PJSIP\/provider-/);
        assert.equal(field(redirect, "Exten"), "1007");
      }
      await until(() => events.find((event) => event.kind === CallEventKind.ANSWERED), "ANSWERED");
      const late = await command({ case: "intercept", value: { callId: ringing.callId, extension: "1007" } });
      assert.equal(late.status, CommandStatus.WRONG_CALL_STATE);
      await command({ case: "hangup", value: { callId: ringing.callId } });
      await played;
    },
  );

  it("presence follows the extensions' device states, and ListPresence answers the latest", TEST, async () => {
    const { played } = await answeredCall("blindTransfer");
    const states = () => presence.filter((entry) => entry.extension === "1001").map((entry) => entry.state);
    // ExtensionStateList at login, then the call's DeviceStateChanges.
    assert.deepEqual(states(), [PresenceState.IDLE, PresenceState.RINGING, PresenceState.IN_USE]);
    assert.equal(presence.filter((entry) => entry.state === PresenceState.IDLE).length >= 12, true);
    await command({ case: "transfer", value: { callId: events[0]?.callId ?? "", destination: "1002" } });
    await played;
    await until(() => states().at(-1) === PresenceState.IDLE, "1001 idle");
    const listed = await command({ case: "listPresence", value: {} });
    assert.equal(listed.status, CommandStatus.OK);
    const entries = listed.detail?.case === "presence" ? listed.detail.value.entries : [];
    const of1001 = entries.find((entry) => entry.extension === "1001");
    assert.equal(of1001?.state, PresenceState.IDLE);
    assert.equal(of1001?.pbxState, "NOT_INUSE");
    assert.equal(of1001?.device, "PJSIP/1001");
    assert.equal(entries.find((entry) => entry.extension === "1002")?.state !== undefined, true);
  });

  it(
    "a restarted agent rebuilds the call in progress from CoreShowChannels: same id, no second start, one HANGUP",
    TEST,
    async () => {
      const { callId, played } = await answeredCall("blindTransfer");
      await driver.stop();
      const before = events.length;
      driver = createAmiDriver({
        host: "127.0.0.1",
        port: sim.port,
        username: "callmesh",
        secret: "callmesh",
        agentId: "agent-ast",
        logger,
        cdrGraceMs: 50,
      });
      driver.onOutput((output) => {
        if (output.kind === "event") events.push(output.event);
      });
      run = createCommandRunner(driver);
      driver.start();
      await until(() => driver.connected, "logged in again");
      const listed = await until(async () => {
        const outcome = await command({ case: "listCalls", value: { callId } });
        return outcome.status === CommandStatus.OK ? outcome : undefined;
      }, "the call rebuilt");
      const [active] = listed.detail?.case === "calls" ? listed.detail.value.calls : [];
      assert.equal(active?.state, ActiveCallState.ANSWERED);
      assert.equal(active?.answeredBy, "1001");
      assert.equal(events.length, before, "no second start");
      assert.equal((await command({ case: "hangup", value: { callId } })).status, CommandStatus.OK);
      await played;
      await until(() => kinds(callId).includes(CallEventKind.HANGUP), "HANGUP");
      const hangup = events.filter((event) => event.callId === callId && event.kind === CallEventKind.HANGUP);
      assert.equal(hangup.length, 1);
      assert.equal((hangup[0]?.sequence ?? 0) > 1000, true, "event ids never reuse the first agent's");
    },
  );
});
