import { type Command, CommandStatus } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import type { CommandOutcome, PbxDriver } from "./ports/pbx-driver.js";

/** Runs a gateway command on the PBX through its driver; a command with no action is UNSUPPORTED. */
export function createCommandRunner(driver: PbxDriver): (command: Command) => Promise<CommandOutcome> {
  return async (command) => {
    const action = command.action;
    switch (action.case) {
      case "originate":
        return driver.originate(action.value);
      case undefined:
        return { status: CommandStatus.UNSUPPORTED, message: "command without an action" };
      default:
        return driver.control(action);
    }
  };
}
