import { create, toBinary } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import {
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
import type { AgentPrincipal, TenantDirectory } from "../domain/tenant-directory.js";
import { bearerToken } from "./api-key-auth.js";

export interface AgentServiceDeps {
  directory: TenantDirectory;
  hub: AgentHub;
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

  function toRecords(principal: AgentPrincipal, batch: Batch): { records: LogRecord[]; lastSequence: bigint } {
    const records: LogRecord[] = [];
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
      items.inc({ outcome: "appended" });
    }
    return { records, lastSequence };
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
      const session: AgentSession = {
        agentId: principal.agentId,
        tenantId: principal.tenantId,
        hello,
        send,
        close: () => outbox.close(),
      };
      deps.hub.attach(session);
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
            const { records, lastSequence } = toRecords(principal, message.value);
            await deps.eventLog.append(records);
            send(create(ConnectResponseSchema, { message: { case: "ack", value: { sequence: lastSequence } } }));
            return;
          }
          case "commandResult":
            if (!deps.hub.complete(session, message.value))
              log.warn({ commandId: message.value.commandId }, "late command result");
            return;
          case "heartbeat":
            return;
          default:
            send(
              create(ConnectResponseSchema, {
                message: {
                  case: "error",
                  value: { reason: "unexpected_message", message: `unexpected ${message.case}` },
                },
              }),
            );
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
        log.info("agent disconnected");
      }
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
