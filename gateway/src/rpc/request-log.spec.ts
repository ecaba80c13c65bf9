import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { CallService } from "@callmesh/gen/callmesh/crm/v1/call_service_pb.js";
import { createLogger } from "@callmesh/platform/logging.js";
import { Code, ConnectError, createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { apiPrincipalKey } from "./api-auth.js";
import { createRequestLogInterceptor } from "./request-log.js";

describe("request log", () => {
  it("logs each request's RPC, caller, tenant, call and code, failures included", async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const logger = createLogger("test", "info", sink);
    const authenticated: Interceptor = (next) => (req) => {
      req.contextValues.set(apiPrincipalKey, { tenantId: "t1", scopes: [], subject: "user:usr_1" });
      return next(req);
    };
    const transport = createRouterTransport((router) =>
      router.service(
        CallService,
        {
          async hangup() {
            return {};
          },
          async park() {
            throw new ConnectError("no such call", Code.NotFound);
          },
        },
        { interceptors: [createRequestLogInterceptor(logger), authenticated] },
      ),
    );
    const client = createClient(CallService, transport);
    await client.hangup({ callId: "c-1" });
    await assert.rejects(client.park({ callId: "c-2" }));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      lines.map(({ rpc, subject, tenantId, callId, code }) => ({ rpc, subject, tenantId, callId, code })),
      [
        {
          rpc: "callmesh.crm.v1.CallService/Hangup",
          subject: "user:usr_1",
          tenantId: "t1",
          callId: "c-1",
          code: "ok",
        },
        {
          rpc: "callmesh.crm.v1.CallService/Park",
          subject: "user:usr_1",
          tenantId: "t1",
          callId: "c-2",
          code: "NotFound",
        },
      ],
    );
  });
});
