import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import {
  type Command,
  type CommandResult,
  type ConnectResponse,
  ConnectResponseSchema,
  type Hello,
} from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { GatewayError } from "./errors.js";

/** One connected agent, as the hub sees it. */
export interface AgentSession {
  readonly agentId: string;
  readonly tenantId: string;
  readonly hello: Hello;
  /** Queues a message to the agent. */
  send(message: ConnectResponse): void;
  /** Ends the stream (a newer stream of the same agent replaced it). */
  close(reason: string): void;
}

interface PendingCommand {
  session: AgentSession;
  resolve(result: CommandResult): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * The agents connected to this gateway, and the commands in flight to them. A command
 * resolves with the agent's result, or fails when the agent goes away or takes too long.
 */
export function createAgentHub(options: { commandTimeoutMs: number }) {
  const sessions = new Map<string, AgentSession>();
  const pending = new Map<string, PendingCommand>();

  function failPending(session: AgentSession, error: GatewayError) {
    for (const [id, command] of pending) {
      if (command.session !== session) continue;
      clearTimeout(command.timer);
      pending.delete(id);
      command.reject(error);
    }
  }

  return {
    attach(session: AgentSession): void {
      const previous = sessions.get(session.agentId);
      sessions.set(session.agentId, session);
      if (previous) {
        failPending(previous, new GatewayError("unavailable", "agent_reconnected", "the agent reconnected"));
        previous.close("replaced by a newer connection of the same agent");
      }
    },

    detach(session: AgentSession): void {
      if (sessions.get(session.agentId) === session) sessions.delete(session.agentId);
      failPending(session, new GatewayError("unavailable", "agent_offline", "the PBX agent disconnected"));
    },

    /** An online agent of the tenant. (One PBX per tenant for now; an extension directory comes with fleets.) */
    agentFor(tenantId: string): AgentSession | undefined {
      for (const session of sessions.values()) if (session.tenantId === tenantId) return session;
      return undefined;
    },

    /** Every online agent of the tenant. */
    agentsOf(tenantId: string): AgentSession[] {
      return [...sessions.values()].filter((session) => session.tenantId === tenantId);
    },

    /** The agent's open session, if it has one. */
    session(agentId: string): AgentSession | undefined {
      return sessions.get(agentId);
    },

    run(session: AgentSession, action: Command["action"]): Promise<CommandResult> {
      const commandId = randomUUID();
      return new Promise<CommandResult>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(commandId);
          reject(new GatewayError("deadline_exceeded", "pbx_timeout", "the PBX agent did not answer in time"));
        }, options.commandTimeoutMs);
        pending.set(commandId, { session, resolve, reject, timer });
        session.send(create(ConnectResponseSchema, { message: { case: "command", value: { commandId, action } } }));
      });
    },

    /** Hands an agent's command result to whoever is waiting for it; false when nobody is. */
    complete(session: AgentSession, result: CommandResult): boolean {
      const command = pending.get(result.commandId);
      if (!command || command.session !== session) return false;
      clearTimeout(command.timer);
      pending.delete(result.commandId);
      command.resolve(result);
      return true;
    },

    get connectedCount(): number {
      return sessions.size;
    },
  };
}

export type AgentHub = ReturnType<typeof createAgentHub>;
