import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  AgentService,
  type Command,
  type ConnectRequest,
  ConnectRequestSchema,
  type Hello,
} from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import type { Logger } from "@callmesh/platform/logging.js";
import { createClient } from "@connectrpc/connect";
import { createWritableIterable } from "@connectrpc/connect/protocol";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { backOff } from "exponential-backoff";
import type { CommandOutcome } from "./ports/pbx-driver.js";
import type { DiskSpool } from "./spool/disk-spool.js";

type OutgoingMessage = MessageInitShape<typeof ConnectRequestSchema>["message"];

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
  /** Items per batch. */
  batchSize?: number;
  /** Most batches sent and not yet acked. */
  window?: number;
}

export interface GatewayLink {
  readonly connected: boolean;
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
    const heartbeat = setInterval(
      () =>
        send({
          case: "heartbeat",
          value: { pbxConnected: options.hello().pbxConnected, spoolDepth: BigInt(spool.depth) },
        }),
      options.heartbeatMs,
    );
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
