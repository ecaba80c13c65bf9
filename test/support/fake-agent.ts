import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  AgentService,
  type ConnectRequest,
  ConnectRequestSchema,
  type ConnectResponse,
} from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { createClient } from "@connectrpc/connect";
import { createWritableIterable } from "@connectrpc/connect/protocol";
import { createGrpcTransport } from "@connectrpc/connect-node";

type ResponseCase = NonNullable<ConnectResponse["message"]["case"]>;
type ResponseValue<K extends ResponseCase> = Extract<ConnectResponse["message"], { case: K }>["value"];

/**
 * A scripted agent speaking the real AgentService protocol over gRPC, for tests of the
 * gateway on its own. (The system tests use the real pbx-agent.)
 */
export function connectFakeAgent(
  url: string,
  token: string,
  agentId: string,
  /** What to open the stream with instead of a plain Hello. */
  first: MessageInitShape<typeof ConnectRequestSchema>["message"] = {
    case: "hello",
    value: { agentId, agentVersion: "test" },
  },
) {
  const client = createClient(AgentService, createGrpcTransport({ baseUrl: url }));
  const outbox = createWritableIterable<ConnectRequest>();
  const received: ConnectResponse[] = [];
  const waiters: { match: (r: ConnectResponse) => boolean; resolve: (r: ConnectResponse) => void }[] = [];
  const abort = new AbortController();
  const send = (message: MessageInitShape<typeof ConnectRequestSchema>["message"]) =>
    void outbox.write(create(ConnectRequestSchema, { message })).catch(() => {});
  send(first);
  const done = (async () => {
    for await (const response of client.connect(outbox, {
      headers: { authorization: `Bearer ${token}` },
      signal: abort.signal,
    })) {
      received.push(response);
      for (const waiter of [...waiters]) {
        if (!waiter.match(response)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(response);
      }
    }
  })();
  done.catch(() => {});

  return {
    send,
    received,
    done,
    /** The first message (already received or next) of this case. */
    async next<K extends ResponseCase>(kind: K, timeoutMs = 3000): Promise<ResponseValue<K>> {
      const seen = received.find((r) => r.message.case === kind);
      const found = seen
        ? Promise.resolve(seen)
        : new Promise<ConnectResponse>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no ${String(kind)} within ${timeoutMs} ms`)), timeoutMs);
            waiters.push({
              match: (r) => r.message.case === kind,
              resolve: (r) => {
                clearTimeout(timer);
                resolve(r);
              },
            });
          });
      const response = await found;
      received.splice(received.indexOf(response), 1);
      return response.message.value as unknown as ResponseValue<K>;
    },
    close() {
      outbox.close();
      abort.abort();
    },
  };
}
