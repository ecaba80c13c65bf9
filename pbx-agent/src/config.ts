import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { ConfigError, optionalVar, parseConfig, portVar, z } from "@callmesh/platform/config.js";

/** A comma-separated list; unset or empty means "the driver's default". */
const listVar = () =>
  optionalVar().transform((value) =>
    value === undefined
      ? undefined
      : value
          .split(",")
          .map((item) => item.trim())
          .filter((item) => item !== ""),
  );

/** A regular expression; unset means the driver's default. */
const patternVar = () =>
  optionalVar().transform((value, context) => {
    if (value === undefined) return undefined;
    try {
      return new RegExp(value);
    } catch (error) {
      context.addIssue({ code: "custom", message: `not a regular expression: ${(error as Error).message}` });
      return z.NEVER;
    }
  });

const byteUnits: Record<string, number> = { "": 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** A size in bytes: a whole number, optionally with a binary unit ("512MiB", "1 GiB"). */
const bytesVar = (defaultBytes: number, minBytes: number) =>
  z
    .union([z.string(), z.number()])
    .optional()
    .transform((value, context) => {
      if (value === undefined || value === "") return defaultBytes;
      const match = /^\s*(\d+)\s*(B|KiB|MiB|GiB|TiB)?\s*$/.exec(String(value));
      const bytes = match ? Number(match[1]) * (byteUnits[match[2] ?? ""] ?? 1) : Number.NaN;
      if (!Number.isSafeInteger(bytes) || bytes < minBytes) {
        context.addIssue({
          code: "custom",
          message: `expected a size of at least ${minBytes} bytes, e.g. 1073741824 or 1GiB; got "${value}"`,
        });
        return z.NEVER;
      }
      return bytes;
    });

/** Every setting of the agent: env var, default, doc. */
export const agentConfigSchema = z
  .object({
    CALLMESH_GATEWAY_URL: z.url().default("http://127.0.0.1:3000").describe("the gateway's address"),
    CALLMESH_AGENT_TOKEN: z.string().min(1).describe("this agent's credential, issued by the gateway"),
    CALLMESH_AGENT_ID: z
      .string()
      .min(1)
      .max(128)
      .default(hostname())
      .describe("stable id of this agent (one per PBX); default: the host name"),
    CALLMESH_SPOOL_DIR: z
      .string()
      .default("./data/agent-spool")
      .describe("where events wait until the gateway acks them"),
    CALLMESH_SPOOL_LIMIT_BYTES: bytesVar(1024 ** 3, 64 * 1024).describe(
      "most bytes the spool's files may hold (a number, or with KiB/MiB/GiB); default 1GiB, at least 64KiB",
    ),
    CALLMESH_SPOOL_ALERT_PERCENT: z.coerce
      .number()
      .int()
      .min(1)
      .max(99)
      .default(80)
      .describe("percent of the spool limit past which the agent warns (SPOOL_NEAR_FULL)"),
    CALLMESH_SPOOL_OVERFLOW_ITEMS: z.coerce
      .number()
      .int()
      .min(0)
      .default(10_000)
      .describe(
        "most items held in memory while the spool cannot write (full or disk failing); beyond, lost and counted",
      ),
    CALLMESH_RECORDING_DIR: optionalVar().describe(
      "where the PBX writes recordings; its disk is reported in heartbeats",
    ),
    CALLMESH_HEARTBEAT_MS: z.coerce
      .number()
      .int()
      .min(100)
      .default(15_000)
      .describe("heartbeat interval to the gateway"),
    CALLMESH_AGENT_OPS_HOST: z.string().default("127.0.0.1").describe("address of /healthz, /readyz and /metrics"),
    CALLMESH_AGENT_OPS_PORT: portVar(9464).describe("port of /healthz, /readyz and /metrics; 0 picks a free one"),
    PBX_KIND: z
      .enum(["asterisk", "freeswitch"])
      .default("asterisk")
      .describe("the PBX: asterisk (AMI) or freeswitch (ESL)"),
    PBX_TRUNK_CONTEXTS: listVar().describe(
      "comma-separated dialplan contexts calls from carriers enter (name* = prefix); default FreePBX's from-trunk… or FreeSWITCH's public",
    ),
    PBX_TRUNK_PROFILES: listVar().describe("freeswitch: sofia profiles facing carriers; default external"),
    PBX_TRUNK_GATEWAYS: listVar().describe("freeswitch: sofia gateways that are trunks; default every gateway"),
    PBX_EXTENSION_PATTERN: patternVar().describe("regular expression an extension matches; default ^\\d{2,6}$"),
    AMI_HOST: z.string().default("127.0.0.1").describe("Asterisk Manager Interface host"),
    AMI_PORT: portVar(5038).describe("Asterisk Manager Interface port"),
    AMI_USERNAME: z.string().min(1).default("callmesh").describe("AMI user (manager.conf)"),
    AMI_SECRET: optionalVar().describe("AMI secret (manager.conf); required for asterisk"),
    ESL_HOST: z.string().default("127.0.0.1").describe("FreeSWITCH event socket host"),
    ESL_PORT: portVar(8021).describe("FreeSWITCH event socket port"),
    ESL_PASSWORD: optionalVar().describe("event socket password (event_socket.conf.xml); required for freeswitch"),
  })
  .superRefine((config, context) => {
    const needed = config.PBX_KIND === "asterisk" ? "AMI_SECRET" : "ESL_PASSWORD";
    if (config[needed] === undefined) {
      context.addIssue({ code: "custom", path: [needed], message: `required when PBX_KIND is ${config.PBX_KIND}` });
    }
  });

export type AgentConfig = z.infer<typeof agentConfigSchema>;

/** Settings whose value in a config file may be a list of strings (joined with commas, as in env). */
const listKeys = new Set(["PBX_TRUNK_CONTEXTS", "PBX_TRUNK_PROFILES", "PBX_TRUNK_GATEWAYS"]);

/**
 * The agent's settings, validated once at start. When `CALLMESH_AGENT_CONFIG` names a JSON
 * file, its keys are the same names as the env vars (values strings, numbers, booleans, or
 * lists for the trunk rules); a variable set (non-empty) in the environment overrides the
 * file. Unknown keys and bad values are errors naming the key and where it came from.
 */
export function parseAgentConfig(env: Record<string, string | undefined> = process.env): AgentConfig {
  const path = env.CALLMESH_AGENT_CONFIG;
  if (path === undefined || path === "") return parseConfig(agentConfigSchema, env);
  const fromFile = readConfigFile(path);
  const merged: Record<string, string | undefined> = { ...fromFile };
  const fromEnv = new Set<string>();
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || value === "") continue;
    merged[key] = value;
    fromEnv.add(key);
  }
  const result = agentConfigSchema.safeParse(merged);
  if (result.success) return result.data;
  const shape = agentConfigSchema.shape as Record<string, z.ZodType>;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.join(".");
    const origin = fromEnv.has(key) ? " (from the environment)" : key in fromFile ? ` (in ${path})` : "";
    const doc = shape[key]?.description;
    return `  ${key || "(config)"}${origin}: ${issue.message}${doc ? ` (${doc})` : ""}`;
  });
  throw new ConfigError(`invalid configuration:\n${problems.join("\n")}`);
}

/** A config file's settings as env-style strings; every problem with it is a ConfigError naming the key and the file. */
function readConfigFile(path: string): Record<string, string> {
  const fail = (problems: string[]): never => {
    throw new ConfigError(`invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  };
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    return fail([`CALLMESH_AGENT_CONFIG: cannot read ${path}: ${(error as Error).message}`]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return fail([`CALLMESH_AGENT_CONFIG: ${path} is not JSON: ${(error as Error).message}`]);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return fail([`CALLMESH_AGENT_CONFIG: ${path} must hold one JSON object of settings`]);
  }
  const known = agentConfigSchema.shape as Record<string, unknown>;
  const settings: Record<string, string> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    if (!(key in known)) {
      problems.push(`${key} (in ${path}): unknown setting`);
    } else if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
      settings[key] = String(value);
    } else if (listKeys.has(key) && Array.isArray(value) && value.every((item) => typeof item === "string")) {
      settings[key] = value.join(",");
    } else {
      const expected = listKeys.has(key) ? "a string or a list of strings" : "a string, number or boolean";
      const got =
        value === null
          ? "null"
          : Array.isArray(value)
            ? "a list"
            : `a${typeof value === "object" ? "n" : ""} ${typeof value}`;
      problems.push(`${key} (in ${path}): expected ${expected}, got ${got}`); // the value itself may be a secret
    }
  }
  if (problems.length > 0) fail(problems);
  return settings;
}
