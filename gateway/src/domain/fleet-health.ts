import { randomUUID } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type AgentStatus, AgentStatusSchema } from "@callmesh/gen/callmesh/admin/v1/agent_fleet_service_pb.js";
import type { AgentNotice, Heartbeat, Hello } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { AgentEventKind, AgentEventSchema } from "@callmesh/gen/callmesh/events/v1/agent_event_pb.js";
import { type EventLog, Topic } from "@callmesh/platform/event-log/event-log.js";
import type { Logger } from "@callmesh/platform/logging.js";
import { Counter, Gauge, type Registry } from "@callmesh/platform/metrics.js";
import type { AgentSession } from "./agent-hub.js";
import type { TenantDirectory } from "./tenant-directory.js";

/** What the gateway last heard from one agent. */
interface LiveAgent {
  tenantId: string;
  /** The open stream; undefined once it ended or the agent was marked offline. */
  session: AgentSession | undefined;
  hello: Hello;
  heartbeat: Heartbeat | undefined;
  pbxConnected: boolean;
  connectedAt: number;
  lastSeenAt: number;
}

export interface FleetHealthOptions {
  directory: Pick<TenantDirectory, "listAgents" | "touchAgent">;
  eventLog: EventLog;
  logger: Logger;
  metrics: Registry;
  /** An agent not heard from for this long is offline (3 missed 15 s heartbeats by default). */
  offlineMs: number;
  /** Least time between two writes of an agent's `last_seen_at`. */
  lastSeenWriteMs?: number;
  /** Aborted when the gateway stops: streams then end without the agents being offline. */
  shutdownSignal: AbortSignal;
  now?: () => number;
}

/**
 * Fleet health (REQUIREMENTS A4, O2): the latest Hello and Heartbeat of each agent, in
 * memory, with `agents.last_seen_at` written at most every 30 s. An agent silent past the
 * offline timeout is marked offline and its stream closed. ONLINE, OFFLINE and the agents'
 * notices go to the `agent-events` topic, stamped with the tenant and agent of the token.
 */
export function createFleetHealth(options: FleetHealthOptions) {
  const now = options.now ?? Date.now;
  const lastSeenWriteMs = options.lastSeenWriteMs ?? 30_000;
  const live = new Map<string, LiveAgent>();
  const lastWritten = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  const offlines = new Counter({
    name: "callmesh_gateway_agent_offline_total",
    help: "Agents that went offline, by cause: silent past the timeout, or stream ended",
    labelNames: ["cause"],
    registers: [options.metrics],
  });
  new Gauge({
    name: "callmesh_gateway_agents_online",
    help: "Agents with an open stream heard from within the offline timeout",
    registers: [options.metrics],
    collect() {
      this.set([...live.values()].filter(isOnline).length);
    },
  });

  function track(work: Promise<void>, what: string, agentId: string): void {
    const settled = work.catch((error) => options.logger.warn({ err: error, agentId }, `could not ${what}`));
    inFlight.add(settled);
    void settled.finally(() => inFlight.delete(settled));
  }

  function writeLastSeen(agentId: string, at: number, force = false): void {
    const written = lastWritten.get(agentId);
    if (!force && written !== undefined && at - written < lastSeenWriteMs) return;
    lastWritten.set(agentId, at);
    track(options.directory.touchAgent(agentId, new Date(at)), "write last_seen_at", agentId);
  }

  function emit(session: Pick<AgentSession, "agentId" | "tenantId">, kind: AgentEventKind, message: string): void {
    const event = create(AgentEventSchema, {
      eventId: randomUUID(),
      kind,
      tenantId: session.tenantId,
      agentId: session.agentId,
      occurredAt: timestampFromMs(now()),
      message,
    });
    const record = {
      topic: Topic.agentEvents,
      key: session.agentId,
      id: `agent-event:${event.eventId}`,
      value: toBinary(AgentEventSchema, event),
    };
    track(options.eventLog.append([record]), `append agent event ${AgentEventKind[kind]}`, session.agentId);
  }

  /** The entry of this very stream; undefined for a stream that was replaced or marked offline. */
  function current(session: AgentSession): LiveAgent | undefined {
    const entry = live.get(session.agentId);
    return entry?.session === session ? entry : undefined;
  }

  function heard(entry: LiveAgent, agentId: string): void {
    entry.lastSeenAt = now();
    writeLastSeen(agentId, entry.lastSeenAt);
  }

  function isOnline(entry: LiveAgent | undefined): boolean {
    return entry?.session !== undefined && now() - entry.lastSeenAt <= options.offlineMs;
  }

  function sweep(): void {
    for (const [agentId, entry] of live) {
      const session = entry.session;
      if (!session || isOnline(entry)) continue;
      const silentMs = now() - entry.lastSeenAt;
      entry.session = undefined;
      offlines.inc({ cause: "silent" });
      options.logger.warn({ agentId, tenantId: entry.tenantId, silentMs }, "agent silent past the offline timeout");
      emit(session, AgentEventKind.OFFLINE, `silent for ${silentMs} ms (offline after ${options.offlineMs} ms)`);
      writeLastSeen(agentId, entry.lastSeenAt, true);
      session.close("silent past the offline timeout");
    }
  }

  const sweeper = setInterval(sweep, Math.max(20, Math.min(options.offlineMs / 4, 5_000)));
  sweeper.unref();

  return {
    connected(session: AgentSession): void {
      const at = now();
      live.set(session.agentId, {
        tenantId: session.tenantId,
        session,
        hello: session.hello,
        heartbeat: undefined,
        pbxConnected: session.hello.pbxConnected,
        connectedAt: at,
        lastSeenAt: at,
      });
      emit(session, AgentEventKind.ONLINE, `agent ${session.hello.agentVersion || "(no version)"} connected`);
      writeLastSeen(session.agentId, at, true);
    },

    /** Any message on the stream proves the agent alive. False for a stream no longer current. */
    heard(session: AgentSession): boolean {
      const entry = current(session);
      if (entry) heard(entry, session.agentId);
      return entry !== undefined;
    },

    heartbeat(session: AgentSession, heartbeat: Heartbeat): boolean {
      const entry = current(session);
      if (!entry) return false;
      entry.heartbeat = heartbeat;
      entry.pbxConnected = heartbeat.pbxConnected;
      heard(entry, session.agentId);
      return true;
    },

    /** A notice the stream validated: on the log as an AgentEvent of its kind. */
    notice(session: AgentSession, notice: AgentNotice): void {
      const entry = current(session);
      if (entry) {
        if (notice.kind === AgentEventKind.PBX_DISCONNECTED) entry.pbxConnected = false;
        if (notice.kind === AgentEventKind.PBX_CONNECTED) entry.pbxConnected = true;
        heard(entry, session.agentId);
      }
      emit(session, notice.kind, notice.message);
    },

    disconnected(session: AgentSession): void {
      const entry = current(session);
      if (!entry) return;
      entry.session = undefined;
      writeLastSeen(session.agentId, entry.lastSeenAt, true);
      // The gateway stopping says nothing about the agent, which will reconnect elsewhere.
      if (options.shutdownSignal.aborted) return;
      offlines.inc({ cause: "stream_ended" });
      emit(session, AgentEventKind.OFFLINE, "the agent's stream ended");
    },

    /** Every agent of the tenant known to the database, with what this gateway last heard from it. */
    async listAgents(tenantId: string): Promise<AgentStatus[]> {
      const rows = await options.directory.listAgents(tenantId);
      return rows.map(({ agentId, lastSeenAt }) => {
        const entry = live.get(agentId);
        if (!entry) {
          return create(AgentStatusSchema, {
            agentId,
            tenantId,
            online: false,
            lastSeenAt: lastSeenAt ? timestampFromMs(lastSeenAt.getTime()) : undefined,
          });
        }
        const beat = entry.heartbeat;
        return create(AgentStatusSchema, {
          agentId,
          tenantId,
          online: isOnline(entry),
          lastSeenAt: timestampFromMs(entry.lastSeenAt),
          connectedAt: timestampFromMs(entry.connectedAt),
          pbxKind: entry.hello.pbxKind,
          pbxVersion: beat?.pbxVersion || entry.hello.pbxVersion,
          agentVersion: beat?.agentVersion || entry.hello.agentVersion,
          pbxConnected: entry.pbxConnected,
          spoolDepth: beat?.spoolDepth,
          spoolBytes: beat?.spoolBytes,
          spoolLimitBytes: beat?.spoolLimitBytes,
          cpuPercent: beat?.cpuPercent,
          memoryUsedBytes: beat?.memoryUsedBytes,
          memoryTotalBytes: beat?.memoryTotalBytes,
          spoolDiskFreeBytes: beat?.spoolDisk?.freeBytes,
          spoolDiskTotalBytes: beat?.spoolDisk?.totalBytes,
          recordingDiskFreeBytes: beat?.recordingDisk?.freeBytes,
          recordingDiskTotalBytes: beat?.recordingDisk?.totalBytes,
          activeCalls: beat?.activeCalls,
        });
      });
    },

    /** Checks for silent agents now (the sweeper does it every quarter of the timeout). */
    sweep,

    /** Stops the sweeper and waits for the log and database writes under way. */
    async stop(): Promise<void> {
      clearInterval(sweeper);
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}

export type FleetHealth = ReturnType<typeof createFleetHealth>;
