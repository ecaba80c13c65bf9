import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { ListPresenceSchema } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import type { Presence } from "@callmesh/gen/callmesh/events/v1/presence_pb.js";
import type { AgentHub } from "./agent-hub.js";
import { askEachAgent, type EachAgentAnswer } from "./ask-each-agent.js";
import { acceptedOrThrow, agentOffline } from "./command-refusals.js";
import type { PresenceFanout } from "./presence-fanout.js";

/**
 * Presence (REQUIREMENTS E6): the current states come from the tenant's online agents
 * (`list_presence`), the changes from the presence items on their streams.
 */
export function createPresence(deps: { hub: AgentHub; fanout: PresenceFanout }) {
  /** Every online agent's extensions, by extension; agents that do not answer are named. */
  async function listPresence(tenantId: string, extensions: readonly string[]): Promise<EachAgentAnswer<Presence>> {
    const online = deps.hub.agentsOf(tenantId);
    if (online.length === 0) throw agentOffline();
    const wanted = extensions.length > 0 ? new Set(extensions) : undefined;
    const { items, unanswered } = await askEachAgent(online, async (session) => {
      const result = acceptedOrThrow(
        await deps.hub.run(session, { case: "listPresence", value: create(ListPresenceSchema) }),
      );
      const entries = result.detail.case === "presence" ? result.detail.value.entries : [];
      for (const entry of entries) {
        entry.tenantId = session.tenantId;
        entry.agentId = session.agentId;
      }
      return entries;
    });
    const entries = items
      .filter((entry) => !wanted || wanted.has(entry.extension))
      .sort((a, b) => a.extension.localeCompare(b.extension));
    return { items: entries, unanswered };
  }

  return {
    listPresence,

    /** The current states, then every change, until `signal` aborts. */
    async *watchPresence(tenantId: string, extensions: readonly string[], signal: AbortSignal) {
      const changes = deps.fanout.watch(tenantId, extensions, signal);
      try {
        // Extensions of an agent that does not answer now show up with their next change.
        const { items: current } = await listPresence(tenantId, extensions);
        yield* current;
        // A change queued while the agents answered may be older than what they answered
        // (one without a time is passed on).
        const snapshot = new Map(current.map((entry) => [`${entry.agentId}/${entry.extension}`, changedMs(entry)]));
        for await (const change of changes) {
          const since = snapshot.get(`${change.agentId}/${change.extension}`);
          if (since !== undefined && change.changedAt && changedMs(change) < since) continue;
          yield change;
        }
      } finally {
        await changes.return();
      }
    },
  };
}

export type PresenceUseCases = ReturnType<typeof createPresence>;

const changedMs = (presence: Presence) => (presence.changedAt ? timestampMs(presence.changedAt) : 0);
