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

/** Commands that apply to a supervision session (a Spy's own call, addressed by its spy_call_id). */
const SUPERVISION_COMMANDS: ReadonlySet<ControlAction["case"]> = new Set(["hangup", "listCalls"]);

/**
 * Runs `action` with the driver's handler for its kind. A command naming a supervision session
 * (`isSupervision`) that is neither Hangup nor ListCalls is WRONG_CALL_STATE: the supervisor's
 * call is not a customer call, there is nothing to transfer, hold or spy on.
 */
export function dispatchControl<Deps>(
  handlers: ControlHandlers<Deps>,
  deps: Deps,
  action: ControlAction,
  isSupervision: (callId: string) => boolean = () => false,
): Promise<CommandOutcome> {
  const callId = "callId" in action.value ? action.value.callId : "";
  if (callId !== "" && !SUPERVISION_COMMANDS.has(action.case) && isSupervision(callId)) {
    return Promise.resolve({
      status: CommandStatus.WRONG_CALL_STATE,
      message: `call ${callId} is a supervision session: only Hangup and ListCalls apply to it`,
    });
  }
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
 * CALL_NOT_FOUND when that one is not in progress. A supervision session (`supervision`, by its
 * spy_call_id) is answered only when asked for by id: it is no customer call.
 */
export function answerCallList<Call>(
  tracker: LiveCalls<Call>,
  callId: string,
  toActiveCall: (call: Call) => ActiveCall,
  supervision: (callId: string) => ActiveCall | undefined = () => undefined,
): CommandOutcome {
  const calls =
    callId === ""
      ? tracker.liveCalls().map(toActiveCall)
      : [tracker.findCall(callId)].filter((call) => call !== undefined).map(toActiveCall);
  const session = callId === "" || calls.length > 0 ? undefined : supervision(callId);
  if (session !== undefined) calls.push(session);
  if (callId !== "" && calls.length === 0) {
    return { status: CommandStatus.CALL_NOT_FOUND, message: `no call ${callId} in progress` };
  }
  const list = create(CallListSchema, { calls });
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
