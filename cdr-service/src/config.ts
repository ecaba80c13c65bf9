import { optionalVar, parseConfig, portVar, z } from "@callmesh/platform/config.js";
import { ReadPreference } from "mongodb";

const readPreferenceModes = [
  ReadPreference.PRIMARY,
  ReadPreference.PRIMARY_PREFERRED,
  ReadPreference.SECONDARY,
  ReadPreference.SECONDARY_PREFERRED,
  ReadPreference.NEAREST,
] as const;

/** Every setting of cdr-service: env var, default, doc. */
export const cdrServiceConfigSchema = z.object({
  CDR_SERVICE_HOST: z
    .string()
    .default("127.0.0.1")
    .describe("address for the internal gRPC API (private network only)"),
  CDR_SERVICE_PORT: portVar(3001).describe("port for the internal gRPC API, /healthz, /readyz and /metrics"),
  DATABASE_URL: optionalVar().describe("PostgreSQL URL; unset: embedded PGlite under CALLMESH_DATA_DIR"),
  CALLMESH_DATA_DIR: z.string().default("./data").describe("where embedded data lives"),
  MONGODB_URL: optionalVar().describe(
    "MongoDB connection string; set: CDRs are stored in MongoDB, unset: in the PostgreSQL/PGlite database",
  ),
  MONGODB_DATABASE: z
    .string()
    .min(1)
    .default("callmesh")
    .describe("MongoDB database of the cdrs collection (the URL's path only names the auth database)"),
  MONGODB_READ_PREFERENCE: z
    .enum(readPreferenceModes)
    .default(ReadPreference.SECONDARY_PREFERRED)
    .describe("where CDR queries read: primary, primaryPreferred, secondary, secondaryPreferred, nearest"),
});

export type CdrServiceConfig = z.infer<typeof cdrServiceConfigSchema>;

export const parseCdrServiceConfig = (env?: Record<string, string | undefined>) =>
  parseConfig(cdrServiceConfigSchema, env);
