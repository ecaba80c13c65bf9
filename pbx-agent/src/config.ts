import { hostname } from "node:os";
import { optionalVar, parseConfig, portVar, z } from "@callmesh/platform/config.js";

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

export const parseAgentConfig = (env?: Record<string, string | undefined>) => parseConfig(agentConfigSchema, env);
