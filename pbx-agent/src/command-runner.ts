import { type Command, CommandStatus } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import type { CommandOutcome, PbxDriver } from "./ports/pbx-driver.js";

/** Runs a gateway command on the PBX through its driver; what the driver cannot do is UNSUPPORTED. */
export function createCommandRunner(driver: PbxDriver): (command: Command) => Promise<CommandOutcome> {
  return async (command) => {
    switch (command.action.case) {
      case "originate":
        return driver.originate(command.action.value);
      default:
        return { status: CommandStatus.UNSUPPORTED, message: `unsupported command ${command.action.case}` };
    }
  };
}
