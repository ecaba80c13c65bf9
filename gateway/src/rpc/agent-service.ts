import { randomUUID } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import {
  AgentNoticeSchema,
  type AgentService,
  type Batch,
  type ConnectRequest,
  type ConnectResponse,
  ConnectResponseSchema,
  HelloSchema,
  type SpoolItem,
  SpoolItemSchema,
} from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { CallEventSchema } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { CdrSchema } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import { PresenceSchema } from "@callmesh/gen/callmesh/events/v1/presence_pb.js";
import { type EventLog, type LogRecord, Topic } from "@callmesh/platform/event-log/event-log.js";
import type { Logger } from "@callmesh/platform/logging.js";
import { Counter, Gauge, type Registry } from "@callmesh/platform/metrics.js";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { createWritableIterable } from "@connectrpc/connect/protocol";
import type { AgentHub, AgentSession } from "../domain/agent-hub.js";
import type { CallIndex } from "../domain/call-index.js";
import type { FleetHealth } from "../domain/fleet-health.js";
import type { PresenceFanout } from "../domain/presence-fanout.js";
import type { AgentPrincipal, TenantDirectory } from "../domain/tenant-directory.js";
import { bearerToken } from "./api-auth.js";

export interface AgentServiceDeps {
  directory: TenantDirectory;
  hub: AgentHub;
  calls: CallIndex;
  presence: PresenceFanout;
  fleet: FleetHealth;
  eventLog: EventLog;
  logger: Logger;
  metrics: Registry;
}

/**
 * callmesh.agent.v1.AgentService: one stream per agent. Items are acked only after the
 * event log committed them; items that break the contract are parked in the dead-letter
 * topic (and acked, so they never block the ones behind them).
 */
export function createAgentService(deps: AgentServiceDeps): Partial<ServiceImpl<typeof AgentService>> {
  const validator = createValidator();
  const items = new Counter({
    name: "callmesh_gateway_agent_items_total",
    help: "Spool items received from agents, by outcome",
    labelNames: ["outcome"],
    registers: [deps.metrics],
  });
  new Gauge({
    name: "callmesh_gateway_agents_connected",
    help: "Agents with an open stream to this gateway",
    registers: [deps.metrics],
    collect() {
      this.set(deps.hub.connectedCount);
    },
  });

  function toRecords(
    principal: AgentPrincipal,
    batch: Batch,
  ): { records: LogRecord[]; accepted: VerifiedPayload[]; lastSequence: bigint } {
    const records: LogRecord[] = [];
    const accepted: VerifiedPayload[] = [];
    let lastSequence = 0n;
    for (const item of batch.items) {
      if (item.sequence > lastSequence) lastSequence = item.sequence;
      const verdict = validator.validate(SpoolItemSchema, item);
      const payload = item.payload;
      if (verdict.kind !== "valid" || payload.case === undefined) {
        const reason = verdict.kind === "valid" ? "empty payload" : verdict.error.message;
        records.push(deadLetter(principal, item.sequence, toBinary(SpoolItemSchema, item), reason));
        items.inc({ outcome: "dead_lettered" });
        continue;
      }
      // The agent's word on who it is is never trusted: stamp it from the token.
      payload.value.tenantId = principal.tenantId;
      payload.value.agentId = principal.agentId;
      records.push(logRecordOf(payload, principal.agentId, item.sequence));
      accepted.push(payload);
      items.inc({ outcome: "appended" });
    }
    return { records, accepted, lastSequence };
  }

  /** What the gateway keeps in memory of stored items: who has which call, presence for watchers. */
  function observe(accepted: VerifiedPayload[]): void {
    for (const payload of accepted) {
      if (payload.case === "event") deps.calls.observe(payload.value);
      else if (payload.case === "presence") deps.presence.publish(payload.value);
    }
  }

  return {
    async *connect(requests, context) {
      const token = bearerToken(context.requestHeader.get("authorization"));
      const principal = token ? await deps.directory.authenticateAgent(token) : undefined;
      if (!principal) throw new ConnectError("agent token missing or invalid", Code.Unauthenticated);
      const log = deps.logger.child({ agentId: principal.agentId, tenantId: principal.tenantId });

      const incoming = requests[Symbol.asyncIterator]();
      const first = await incoming.next();
      if (first.done || first.value.message.case !== "hello") {
        throw new ConnectError("the first message on the stream must be hello", Code.InvalidArgument);
      }
      const hello = first.value.message.value;
      const helloVerdict = validator.validate(HelloSchema, hello);
      if (helloVerdict.kind !== "valid") throw new ConnectError(helloVerdict.error.message, Code.InvalidArgument);
      if (hello.agentId !== principal.agentId) {
        throw new ConnectError(`this token belongs to agent '${principal.agentId}'`, Code.PermissionDenied);
      }

      const outbox = createWritableIterable<ConnectResponse>();
      const send = (message: ConnectResponse) => void outbox.write(message).catch(() => {});
      const refuse = (reason: string, message: string) =>
        send(create(ConnectResponseSchema, { message: { case: "error", value: { reason, message } } }));
      let closedByGateway = false;
      const session: AgentSession = {
        agentId: principal.agentId,
        tenantId: principal.tenantId,
        hello,
        send,
        close: (reason) => {
          closedByGateway = true;
          log.info({ reason }, "closing the agent's stream");
          outbox.close();
        },
      };
      deps.hub.attach(session);
      deps.fleet.connected(session);
      log.info(
        { pbxKind: hello.pbxKind, pbxVersion: hello.pbxVersion, version: hello.agentVersion },
        "agent connected",
      );
      send(create(ConnectResponseSchema, { message: { case: "welcome", value: { tenantId: principal.tenantId } } }));

      let failure: unknown;
      const handle = async (request: ConnectRequest) => {
        const message = request.message;
        switch (message.case) {
          case "batch": {
            deps.fleet.heard(session);
            const { records, accepted, lastSequence } = toRecords(principal, message.value);
            await deps.eventLog.append(records);
            observe(accepted);
            send(create(ConnectResponseSchema, { message: { case: "ack", value: { sequence: lastSequence } } }));
            return;
          }
          case "commandResult":
            deps.fleet.heard(session);
            if (!deps.hub.complete(session, message.value))
              log.warn({ commandId: message.value.commandId }, "late command result");
            return;
          case "heartbeat":
            deps.fleet.heartbeat(session, message.value);
            return;
          case "notice": {
            deps.fleet.heard(session);
            const verdict = validator.validate(AgentNoticeSchema, message.value);
            if (verdict.kind === "valid") {
              deps.fleet.notice(session, message.value);
              return;
            }
            // Kept for inspection like any bad input from an agent, and told to the agent.
            log.warn({ reason: verdict.error.message }, "agent notice breaks the contract");
            await deps.eventLog.append([
              noticeDeadLetter(principal, toBinary(AgentNoticeSchema, message.value), verdict.error.message),
            ]);
            refuse("invalid_notice", verdict.error.message);
            return;
          }
          default:
            log.warn({ message: message.case }, "unexpected message from the agent");
            refuse("unexpected_message", `unexpected ${message.case ?? "empty message"} after hello`);
        }
      };
      const pump = (async () => {
        try {
          for (;;) {
            const next = await incoming.next();
            if (next.done) break;
            await handle(next.value);
          }
        } catch (error) {
          failure = error;
        } finally {
          outbox.close();
        }
      })();

      try {
        yield* outbox;
      } finally {
        deps.hub.detach(session);
        deps.fleet.disconnected(session);
        log.info("agent disconnected");
      }
      // Closed by the gateway (replaced, or silent): the agent may never end its side.
      if (closedByGateway) return;
      await pump;
      if (failure && !context.signal.aborted) {
        log.warn({ err: failure }, "agent stream failed");
        throw new ConnectError("the gateway could not store the batch; reconnect and resend", Code.Unavailable);
      }
    },
  };
}

function deadLetter(principal: AgentPrincipal, sequence: bigint, value: Uint8Array, reason: string): LogRecord {
  return {
    topic: Topic.deadLetter,
    key: principal.agentId,
    id: `agent:${principal.agentId}:${sequence}`,
    value,
    headers: { reason, source: "agent-stream", tenantId: principal.tenantId, agentId: principal.agentId },
  };
}

function noticeDeadLetter(principal: AgentPrincipal, value: Uint8Array, reason: string): LogRecord {
  return {
    topic: Topic.deadLetter,
    key: principal.agentId,
    id: `agent-notice:${principal.agentId}:${randomUUID()}`,
    value,
    headers: { reason, source: "agent-notice", tenantId: principal.tenantId, agentId: principal.agentId },
  };
}

type VerifiedPayload = Exclude<SpoolItem["payload"], { case: undefined }>;

/** Where each kind of spool item goes in the log, keyed so that what must stay in order does. */
function logRecordOf(payload: VerifiedPayload, agentId: string, sequence: bigint): LogRecord {
  switch (payload.case) {
    case "event":
      return {
        topic: Topic.callEvents,
        key: payload.value.callId,
        id: payload.value.eventId,
        value: toBinary(CallEventSchema, payload.value),
      };
    case "cdr":
      return {
        topic: Topic.cdrs,
        key: payload.value.callId,
        id: payload.value.id,
        value: toBinary(CdrSchema, payload.value),
      };
    case "presence":
      return {
        topic: Topic.presence,
        key: `${payload.value.tenantId}/${payload.value.extension}`,
        id: `presence:${agentId}:${sequence}`,
        value: toBinary(PresenceSchema, payload.value),
      };
  }
}
