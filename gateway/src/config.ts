import { optionalVar, parseConfig, portVar, z } from "@callmesh/platform/config.js";

/** Every setting of the gateway: env var, default, doc. */
export const gatewayConfigSchema = z.object({
  CALLMESH_HOST: z.string().default("0.0.0.0").describe("address to listen on"),
  CALLMESH_PORT: portVar(3000).describe("port for Connect JSON (HTTP/1.1), gRPC and gRPC-web (HTTP/2)"),
  DATABASE_URL: optionalVar().describe("PostgreSQL URL; unset: embedded PGlite under CALLMESH_DATA_DIR"),
  CALLMESH_DATA_DIR: z.string().default("./data").describe("where embedded data lives"),
  CDR_SERVICE_URL: z.url().default("http://127.0.0.1:3001").describe("cdr-service's gRPC address"),
  CALLMESH_COMMAND_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(10_000)
    .describe("how long a command may take on a PBX agent"),
  CALLMESH_AGENT_OFFLINE_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(45_000)
    .describe("an agent not heard from for this long is offline and its stream closed (3 missed 15 s heartbeats)"),
  CALLMESH_PRESENCE_QUEUE_LIMIT: z.coerce
    .number()
    .int()
    .min(1)
    .default(1_000)
    .describe("presence changes a WatchPresence client may fall behind before it is dropped (RESOURCE_EXHAUSTED)"),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export const parseGatewayConfig = (env?: Record<string, string | undefined>) => parseConfig(gatewayConfigSchema, env);
