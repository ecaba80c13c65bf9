import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { CommandSchema, CommandStatus } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { PbxKind } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import { createCommandRunner } from "./command-runner.js";
import type { ControlAction, PbxDriver } from "./ports/pbx-driver.js";

describe("command runner", () => {
  const calls: string[] = [];
  const driver: PbxDriver = {
    kind: PbxKind.ASTERISK,
    connected: true,
    pbxVersion: "20",
    start() {},
    stop: async () => {},
    originate: async (command) => {
      calls.push(`originate ${command.callId}`);
      return { status: CommandStatus.OK, message: "" };
    },
    control: async (action: ControlAction) => {
      calls.push(`${action.case} ${"callId" in action.value ? action.value.callId : ""}`);
      return { status: CommandStatus.OK, message: "", detail: { case: "parkedAt", value: "701" } };
    },
    onOutput() {},
    onPresence() {},
    onConnectionChange() {},
  };
  const run = createCommandRunner(driver);

  it("sends click-to-call to originate() and every other action to control(), detail and all", async () => {
    await run(create(CommandSchema, { action: { case: "originate", value: { callId: "c1" } } }));
    const parked = await run(create(CommandSchema, { action: { case: "park", value: { callId: "c2" } } }));
    assert.deepEqual(parked.detail, { case: "parkedAt", value: "701" });
    await run(create(CommandSchema, { action: { case: "listPresence", value: {} } }));
    assert.deepEqual(calls, ["originate c1", "park c2", "listPresence "]);
  });

  it("answers UNSUPPORTED for a command without an action", async () => {
    assert.equal((await run(create(CommandSchema, {}))).status, CommandStatus.UNSUPPORTED);
  });
});
