import type { Registry } from "prom-client";
import type { DualHandler } from "./serve.js";

/**
 * Puts the operational endpoints in front of a service's API handler:
 * `/healthz` (the process is alive), `/readyz` (its dependencies answer: `ready()`
 * resolves true) and `/metrics` (Prometheus text format).
 */
export function withOpsRoutes(
  api: DualHandler,
  ops: { registry: Registry; ready: () => Promise<boolean> },
): DualHandler {
  return (req, res) => {
    const path = (req.url ?? "").split("?")[0];
    const reply = (status: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { "content-type": type });
      res.end(body);
    };
    if (req.method === "GET" && path === "/healthz") return reply(200, "ok\n");
    if (req.method === "GET" && path === "/readyz") {
      ops.ready().then(
        (ok) => reply(ok ? 200 : 503, ok ? "ready\n" : "not ready\n"),
        () => reply(503, "not ready\n"),
      );
      return;
    }
    if (req.method === "GET" && path === "/metrics") {
      ops.registry.metrics().then(
        (text) => reply(200, text, ops.registry.contentType),
        (error: unknown) => reply(500, String(error)),
      );
      return;
    }
    api(req, res);
  };
}
