import { createServer, type Http2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import {
  AgentService,
  type ConnectRequest,
  type ConnectResponse,
  ConnectResponseSchema,
} from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import type { ConnectRouter } from "@connectrpc/connect";
import { createWritableIterable } from "@connectrpc/connect/protocol";
import { connectNodeAdapter } from "@connectrpc/connect-node";

type RequestCase = NonNullable<ConnectRequest["message"]["case"]>;
type RequestValue<K extends RequestCase> = Extract<ConnectRequest["message"], { case: K }>["value"];

/** The gateway side of the agent's stream, for the agent's own tests. */
export interface TestGateway {
  readonly url: string;
  /** Every message agents sent, in order. */
  readonly received: ConnectRequest[];
  /** The messages of one kind. */
  of<K extends RequestCase>(kind: K): RequestValue<K>[];
  /** Acks up to `sequence` on the latest stream. */
  ack(sequence: bigint): void;
  /** Sequences of every batched item received, in order. */
  batchSequences(): bigint[];
  close(): Promise<void>;
}

/** A tiny AgentService that welcomes every agent, records what it sends, and acks only when told. */
export async function startTestGateway(): Promise<TestGateway> {
  const received: ConnectRequest[] = [];
  let send: ((response: ConnectResponse) => void) | undefined;
  const routes = (router: ConnectRouter) =>
    router.service(AgentService, {
      async *connect(requests) {
        const outbox = createWritableIterable<ConnectResponse>();
        send = (response) => void outbox.write(response).catch(() => {});
        void (async () => {
          try {
            for await (const request of requests) {
              received.push(request);
              if (request.message.case === "hello") {
                send?.(create(ConnectResponseSchema, { message: { case: "welcome", value: { tenantId: "t1" } } }));
              }
            }
          } catch {
            // the agent went away
          } finally {
            outbox.close();
          }
        })();
        yield* outbox;
      },
    });
  const sessions = new Set<Http2Session>();
  const server = createServer(connectNodeAdapter({ routes }));
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const of = <K extends RequestCase>(kind: K) =>
    received.filter((r) => r.message.case === kind).map((r) => r.message.value as RequestValue<K>);
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    of,
    ack(sequence: bigint) {
      send?.(create(ConnectResponseSchema, { message: { case: "ack", value: { sequence } } }));
    },
    batchSequences: () => of("batch").flatMap((batch) => batch.items.map((item) => item.sequence)),
    async close() {
      for (const session of sessions) session.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Polls `check` every 10 ms until it holds. */
export async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
