import { create } from "@bufbuild/protobuf";
import { type UnansweredAgent, UnansweredAgentSchema } from "@callmesh/gen/callmesh/crm/v1/unanswered_agent_pb.js";
import type { AgentSession } from "./agent-hub.js";
import { GatewayError } from "./errors.js";

/** What the agents answered, and which of them did not. */
export interface EachAgentAnswer<T> {
  items: T[];
  unanswered: UnansweredAgent[];
}

/**
 * Asks every agent at once and merges what they answer. One PBX that is slow or down must not
 * blank the list of all the others: a list answers what it has and names the agents that did
 * not answer. Only when none answered does it fail, with the first agent's error.
 */
export async function askEachAgent<T>(
  sessions: readonly AgentSession[],
  ask: (session: AgentSession) => Promise<T[]>,
): Promise<EachAgentAnswer<T>> {
  const answers = await Promise.allSettled(sessions.map(ask));
  const items: T[] = [];
  const unanswered: UnansweredAgent[] = [];
  answers.forEach((answer, index) => {
    if (answer.status === "fulfilled") items.push(...answer.value);
    else
      unanswered.push(
        create(UnansweredAgentSchema, { agentId: sessions[index]?.agentId, reason: reasonOf(answer.reason) }),
      );
  });
  const first = answers[0];
  if (first && unanswered.length === answers.length && first.status === "rejected") throw first.reason;
  return { items, unanswered };
}

function reasonOf(error: unknown): string {
  return error instanceof GatewayError ? error.reason : "agent_error";
}
