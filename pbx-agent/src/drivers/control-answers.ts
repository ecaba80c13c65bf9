import { create } from "@bufbuild/protobuf";
import { CallListSchema, CommandStatus, PresenceListSchema } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import type { ActiveCall } from "@callmesh/gen/callmesh/events/v1/active_call_pb.js";
import type { Presence } from "@callmesh/gen/callmesh/events/v1/presence_pb.js";
import type { CommandOutcome, ControlAction } from "../ports/pbx-driver.js";

/** One driver's way of running one kind of control command. */
export type ControlHandler<Deps, C extends ControlAction["case"]> = (
  deps: Deps,
  command: Extract<ControlAction, { case: C }>["value"],
) => Promise<CommandOutcome>;

/** A handler for every kind of control command. */
export type ControlHandlers<Deps> = { [C in ControlAction["case"]]: ControlHandler<Deps, C> };

/** Runs `action` with the driver's handler for its kind. */
export function dispatchControl<Deps>(
  handlers: ControlHandlers<Deps>,
  deps: Deps,
  action: ControlAction,
): Promise<CommandOutcome> {
  const handler = handlers[action.case] as ControlHandler<Deps, typeof action.case>;
  return handler(deps, action.value as never);
}

/** The calls a tracker holds, in the shape each driver's tracker offers. */
export interface LiveCalls<Call> {
  liveCalls(): Call[];
  findCall(callId: string): Call | undefined;
}

/**
 * ListCalls from the tracker (no PBX round trip): every call in progress, or the one asked for,
 * CALL_NOT_FOUND when that one is not in progress.
 */
export function answerCallList<Call>(
  tracker: LiveCalls<Call>,
  callId: string,
  toActiveCall: (call: Call) => ActiveCall,
): CommandOutcome {
  const calls = callId === "" ? tracker.liveCalls() : [tracker.findCall(callId)].filter((call) => call !== undefined);
  if (callId !== "" && calls.length === 0) {
    return { status: CommandStatus.CALL_NOT_FOUND, message: `no call ${callId} in progress` };
  }
  const list = create(CallListSchema, { calls: calls.map(toActiveCall) });
  return { status: CommandStatus.OK, message: `${list.calls.length} calls`, detail: { case: "calls", value: list } };
}

/** ListPresence: the latest state of every extension the PBX reported. */
export function answerPresenceList(entries: Presence[]): CommandOutcome {
  const list = create(PresenceListSchema, { entries });
  return {
    status: CommandStatus.OK,
    message: `${list.entries.length} extensions`,
    detail: { case: "presence", value: list },
  };
}
