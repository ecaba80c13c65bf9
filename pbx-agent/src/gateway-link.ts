import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type AgentNotice,
  AgentService,
  type Command,
  type ConnectRequest,
  ConnectRequestSchema,
  type HeartbeatSchema,
  type Hello,
} from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { AgentEventKind } from "@callmesh/gen/callmesh/events/v1/agent_event_pb.js";
import type { Logger } from "@callmesh/platform/logging.js";
import { Counter, type Registry } from "@callmesh/platform/metrics.js";
import { createClient } from "@connectrpc/connect";
import { createWritableIterable } from "@connectrpc/connect/protocol";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { backOff } from "exponential-backoff";
import type { CommandOutcome } from "./ports/pbx-driver.js";
import type { DiskSpool } from "./spool/disk-spool.js";

type OutgoingMessage = MessageInitShape<typeof ConnectRequestSchema>["message"];

/** What a heartbeat says: health of the host, the spool and the PBX connection. */
export type HeartbeatInit = MessageInitShape<typeof HeartbeatSchema>;

/** A notice for the fleet: what happened to the agent, in words for people. */
export type NoticeInit = Pick<AgentNotice, "kind" | "message">;

/** Notices kept while the gateway is unreachable; older ones are dropped (and logged). */
const maxQueuedNotices = 32;

export interface GatewayLinkOptions {
  gatewayUrl: string;
  token: string;
  spool: DiskSpool;
  logger: Logger;
  /** The Hello sent at the start of every stream. */
  hello(): Hello;
  /** Runs a command from the gateway on the PBX. */
  runCommand(command: Command): Promise<CommandOutcome>;
  heartbeatMs: number;
  /** What each heartbeat carries; read at every interval. */
  heartbeat(): HeartbeatInit | Promise<HeartbeatInit>;
  /** Where the link's counters go. */
  metrics?: Registry;
  /** Items per batch. */
  batchSize?: number;
  /** Most batches sent and not yet acked. */
  window?: number;
}

export interface GatewayLink {
  readonly connected: boolean;
  /**
   * Tells the gateway at once, out of band (not spooled: it may be the spool that is full).
   * Sent on the live stream, or queued (the last 32) until the next stream is welcomed.
   */
  notify(notice: NoticeInit): void;
  start(): void;
  stop(): Promise<void>;
}

/**
 * The agent's one stream to the gateway. It sends the spool's durable items in batches and
 * deletes them when acked; after any break it reconnects with exponential backoff and
 * jitter and resends everything not acked (the gateway's log ignores what it already has).
 */
export function createGatewayLink(options: GatewayLinkOptions): GatewayLink {
  const { spool, logger } = options;
  const batchSize = options.batchSize ?? 500;
  const window = options.window ?? 8;
  const client = createClient(AgentService, createGrpcTransport({ baseUrl: options.gatewayUrl }));
  let stopping: AbortController | undefined;
  let running: Promise<void> | undefined;
  let connected = false;
  let wake: () => void = () => {};
  spool.onDurable(() => wake());
  const notices: NoticeInit[] = [];
  let sendNotice: ((notice: NoticeInit) => void) | undefined;
  const heartbeatFailures = new Counter({
    name: "callmesh_agent_heartbeat_send_failures_total",
    help: "Heartbeats that could not be built or sent to the gateway, by reason",
    labelNames: ["reason"],
    registers: options.metrics ? [options.metrics] : [],
  });
  const heartbeatsSent = new Counter({
    name: "callmesh_agent_heartbeats_sent_total",
    help: "Heartbeats sent to the gateway",
    registers: options.metrics ? [options.metrics] : [],
  });
  for (const reason of ["build", "stream_closed"]) heartbeatFailures.inc({ reason }, 0);

  function queueNotice(notice: NoticeInit) {
    notices.push(notice);
    if (notices.length > maxQueuedNotices) {
      const dropped = notices.shift();
      logger.warn(
        { kind: dropped ? AgentEventKind[dropped.kind] : "", detail: dropped?.message },
        "notice dropped: too many queued while the gateway is unreachable",
      );
    }
  }

  /** One stream, until it breaks. Resolves if it had been welcomed (so backoff starts afresh), else throws. */
  async function runStream(signal: AbortSignal): Promise<void> {
    const outbox = createWritableIterable<ConnectRequest>();
    const send = (message: OutgoingMessage) =>
      void outbox.write(create(ConnectRequestSchema, { message })).catch(() => {});
    let sentUpTo = spool.ackedSequence;
    let batchesInFlight = 0;
    let welcomed = false;

    const sendPending = () => {
      if (!welcomed) return;
      while (batchesInFlight < window) {
        const items = spool.unacked(sentUpTo, batchSize);
        const last = items[items.length - 1];
        if (!last) return;
        send({ case: "batch", value: { items } });
        sentUpTo = last.sequence;
        batchesInFlight++;
      }
    };
    const sendHeartbeat = async () => {
      let value: HeartbeatInit;
      try {
        value = await options.heartbeat();
      } catch (error) {
        heartbeatFailures.inc({ reason: "build" });
        logger.warn({ err: error }, "heartbeat could not be built");
        return;
      }
      if (signal.aborted || !welcomed) return;
      try {
        await outbox.write(create(ConnectRequestSchema, { message: { case: "heartbeat", value } }));
        heartbeatsSent.inc();
      } catch {
        heartbeatFailures.inc({ reason: "stream_closed" });
      }
    };
    const heartbeat = setInterval(() => void sendHeartbeat(), options.heartbeatMs);
    const noticeOnStream = (notice: NoticeInit) => {
      outbox.write(create(ConnectRequestSchema, { message: { case: "notice", value: notice } })).catch(() => {
        queueNotice(notice); // the stream closed before it went out: the next one sends it
      });
    };
    send({ case: "hello", value: options.hello() });
    try {
      const responses = client.connect(outbox, {
        headers: { authorization: `Bearer ${options.token}` },
        signal,
      });
      for await (const response of responses) {
        const message = response.message;
        switch (message.case) {
          case "welcome":
            welcomed = true;
            connected = true;
            logger.info({ tenantId: message.value.tenantId, spoolDepth: spool.depth }, "connected to the gateway");
            wake = sendPending;
            sendNotice = noticeOnStream;
            for (const notice of notices.splice(0)) noticeOnStream(notice);
            void sendHeartbeat(); // the fleet sees this agent's health at once, not one interval later
            sendPending();
            break;
          case "ack":
            spool.ack(message.value.sequence);
            batchesInFlight = Math.max(0, batchesInFlight - 1);
            if (message.value.sequence >= sentUpTo) batchesInFlight = 0;
            sendPending();
            break;
          case "command":
            void runCommand(message.value, send);
            break;
          case "error":
            logger.warn(
              { reason: message.value.reason, detail: message.value.message },
              "the gateway refused a message",
            );
            break;
        }
      }
      if (!signal.aborted) logger.warn("the gateway ended the stream");
    } catch (error) {
      if (!signal.aborted) logger.warn({ err: error }, "gateway stream failed");
      if (!welcomed) throw error;
    } finally {
      clearInterval(heartbeat);
      outbox.close();
      connected = false;
      wake = () => {};
      sendNotice = undefined;
    }
  }

  async function runCommand(command: Command, send: (message: OutgoingMessage) => void) {
    const action = command.action.value;
    const log = logger.child({
      commandId: command.commandId,
      callId: action && "callId" in action ? action.callId : "",
    });
    const outcome = await options.runCommand(command);
    log.info({ action: command.action.case, status: outcome.status, detail: outcome.message }, "command done");
    send({ case: "commandResult", value: { commandId: command.commandId, ...outcome } });
  }

  async function loop(signal: AbortSignal) {
    while (!signal.aborted) {
      await backOff(() => runStream(signal), {
        startingDelay: 200,
        maxDelay: 30_000,
        timeMultiple: 2,
        jitter: "full",
        numOfAttempts: Number.MAX_SAFE_INTEGER,
        retry: () => !signal.aborted,
      }).catch(() => {});
      if (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  return {
    get connected() {
      return connected;
    },
    notify(notice) {
      if (sendNotice) sendNotice(notice);
      else queueNotice(notice);
    },
    start() {
      if (running) return;
      stopping = new AbortController();
      running = loop(stopping.signal);
    },
    async stop() {
      stopping?.abort();
      await running;
      running = undefined;
    },
  };
}
