import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CommandStatus } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { statusOfRefusal } from "./ami-refusal.js";

describe("ami-refusal", () => {
  it("maps each refusal text of Asterisk 20's call-control actions to its status", () => {
    const cases: Array<[string, CommandStatus]> = [
      // main/manager.c ast_manager_hangup_helper (Hangup)
      ["No such channel", CommandStatus.CALL_NOT_FOUND],
      // main/manager.c action_redirect, res/parking/parking_manager.c manager_park
      ["Channel does not exist: PJSIP/1001-00000001", CommandStatus.CALL_NOT_FOUND],
      // apps/app_senddtmf.c manager_play_dtmf
      ["Channel not found", CommandStatus.CALL_NOT_FOUND],
      // main/manager.c action_blind_transfer, action_atxfer
      ["Channel specified does not exist", CommandStatus.CALL_NOT_FOUND],
      // main/features.c action_bridge
      ["Channel1 does not exist: PJSIP/1001-00000001", CommandStatus.CALL_NOT_FOUND],
      ["Channel2 does not exist: PJSIP/1002-00000002", CommandStatus.CALL_NOT_FOUND],
      ["Transfer not permitted", CommandStatus.WRONG_CALL_STATE],
      ["Transfer invalid", CommandStatus.WRONG_CALL_STATE],
      ["Redirect failed, channel not up.", CommandStatus.WRONG_CALL_STATE],
      ["Redirect failed, extra channel not up.", CommandStatus.WRONG_CALL_STATE],
      ["Extension does not exist.", CommandStatus.EXTENSION_UNKNOWN],
      ["Transfer failed", CommandStatus.PBX_REFUSED],
      ["Park action failed\n", CommandStatus.PBX_REFUSED],
      ["Redirect failed", CommandStatus.PBX_REFUSED],
      ["Missing channel parameter in request", CommandStatus.PBX_REFUSED],
      ["No attended transfer feature code found", CommandStatus.PBX_REFUSED],
      ["Originate failed", CommandStatus.PBX_REFUSED],
      ["Permission denied", CommandStatus.PBX_REFUSED],
    ];
    for (const [message, status] of cases) assert.equal(statusOfRefusal(message), status, message);
  });
});
