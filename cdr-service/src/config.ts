import { optionalVar, parseConfig, portVar, z } from "@callmesh/platform/config.js";

/** Every setting of cdr-service: env var, default, doc. */
export const cdrServiceConfigSchema = z.object({
  CDR_SERVICE_HOST: z
    .string()
    .default("127.0.0.1")
    .describe("address for the internal gRPC API (private network only)"),
  CDR_SERVICE_PORT: portVar(3001).describe("port for the internal gRPC API, /healthz, /readyz and /metrics"),
  DATABASE_URL: optionalVar().describe("PostgreSQL URL; unset: embedded PGlite under CALLMESH_DATA_DIR"),
  CALLMESH_DATA_DIR: z.string().default("./data").describe("where embedded data lives"),
});

export type CdrServiceConfig = z.infer<typeof cdrServiceConfigSchema>;

export const parseCdrServiceConfig = (env?: Record<string, string | undefined>) =>
  parseConfig(cdrServiceConfigSchema, env);
