import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import {
  type Command,
  type CommandResult,
  CommandStatus,
  ListCallsSchema,
} from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import type { ActiveCall } from "@callmesh/gen/callmesh/events/v1/active_call_pb.js";
import type { AgentHub, AgentSession } from "./agent-hub.js";
import { askEachAgent, type EachAgentAnswer } from "./ask-each-agent.js";
import type { CallIndex } from "./call-index.js";
import { acceptedOrThrow, agentOffline, callNotFound } from "./command-refusals.js";

/** A call-control action on one call: every Command case but those that are not about a call. */
export type CallAction = Exclude<Command["action"], { case: "originate" | "listCalls" | "listPresence" | undefined }>;

/**
 * Call control and live calls (REQUIREMENTS C5, O6). A command for a call goes to the agent
 * that reported it: the call index knows it while the gateway has seen the call's events;
 * otherwise (after a gateway restart) the tenant's online agents are asked. A call of another
 * tenant is never found.
 */
export function createCallControl(deps: { hub: AgentHub; calls: CallIndex }) {
  /** The calls an agent tracks (only `callId` when given), stamped with its tenant and agent. */
  async function callsOf(session: AgentSession, callId = ""): Promise<ActiveCall[]> {
    const result = acceptedOrThrow(
      await deps.hub.run(session, { case: "listCalls", value: create(ListCallsSchema, { callId }) }),
    );
    const calls = result.detail.case === "calls" ? result.detail.value.calls : [];
    for (const call of calls) {
      call.tenantId = session.tenantId;
      call.agentId = session.agentId;
      deps.calls.remember(call.callId, { tenantId: session.tenantId, agentId: session.agentId });
    }
    return callId ? calls.filter((call) => call.callId === callId) : calls;
  }

  /** The agent whose PBX has the call, and the call when it had to be asked for. */
  async function locate(tenantId: string, callId: string): Promise<{ session: AgentSession; call?: ActiveCall }> {
    const owner = deps.calls.ownerOf(callId);
    if (owner) {
      if (owner.tenantId !== tenantId) throw callNotFound();
      const session = deps.hub.session(owner.agentId);
      if (!session) throw agentOffline();
      return { session };
    }
    const online = deps.hub.agentsOf(tenantId);
    if (online.length === 0) throw agentOffline();
    const answers = await Promise.allSettled(
      online.map(async (session) => ({ session, calls: await callsOf(session, callId) })),
    );
    for (const answer of answers) {
      if (answer.status === "fulfilled" && answer.value.calls[0]) {
        return { session: answer.value.session, call: answer.value.calls[0] };
      }
    }
    // Not found where we could look; an agent that did not answer might still have it.
    const failed = answers.find((answer) => answer.status === "rejected");
    if (failed) throw failed.reason;
    throw callNotFound();
  }

  return {
    /** Runs an action on the call's PBX; throws the CRM-facing error when it is refused. */
    async control(tenantId: string, action: CallAction): Promise<CommandResult> {
      const callId = action.value.callId;
      const { session } = await locate(tenantId, callId);
      const result = await deps.hub.run(session, action);
      if (result.status === CommandStatus.CALL_NOT_FOUND) deps.calls.forget(callId);
      acceptedOrThrow(result);
      // A supervisor's call reports no events to index it by, yet Hangup takes its id.
      if (action.case === "spy" && action.value.spyCallId) {
        deps.calls.remember(action.value.spyCallId, { tenantId, agentId: session.agentId });
      }
      return result;
    },

    /**
     * The tenant's calls on every online agent, oldest first; `extension` keeps those it takes
     * part in. Agents that do not answer are named, and their calls are missing.
     */
    async listActiveCalls(tenantId: string, extension = ""): Promise<EachAgentAnswer<ActiveCall>> {
      const online = deps.hub.agentsOf(tenantId);
      if (online.length === 0) throw agentOffline();
      const { items, unanswered } = await askEachAgent(online, (session) => callsOf(session));
      const calls = items
        .filter((call) => !extension || involves(call, extension))
        .sort((a, b) => startedMs(a) - startedMs(b));
      return { items: calls, unanswered };
    },

    async getCall(tenantId: string, callId: string): Promise<ActiveCall> {
      const { session, call } = await locate(tenantId, callId);
      const found = call ?? (await callsOf(session, callId))[0];
      if (!found) {
        deps.calls.forget(callId);
        throw callNotFound();
      }
      return found;
    },
  };
}

export type CallControl = ReturnType<typeof createCallControl>;

function involves(call: ActiveCall, extension: string): boolean {
  return (
    call.answeredBy === extension ||
    call.fromNumber === extension ||
    call.toNumber === extension ||
    call.ringingExtensions.includes(extension) ||
    call.legs.some((leg) => leg.extension === extension)
  );
}

const startedMs = (call: ActiveCall) => (call.startedAt ? timestampMs(call.startedAt) : 0);
