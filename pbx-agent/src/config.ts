import { hostname } from "node:os";
import { parseConfig, portVar, z } from "@callmesh/platform/config.js";

/** Every setting of the agent: env var, default, doc. */
export const agentConfigSchema = z.object({
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
  CALLMESH_HEARTBEAT_MS: z.coerce.number().int().min(100).default(15_000).describe("heartbeat interval to the gateway"),
  AMI_HOST: z.string().default("127.0.0.1").describe("Asterisk Manager Interface host"),
  AMI_PORT: portVar(5038).describe("Asterisk Manager Interface port"),
  AMI_USERNAME: z.string().min(1).default("callmesh").describe("AMI user (manager.conf)"),
  AMI_SECRET: z.string().min(1).describe("AMI secret (manager.conf)"),
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;

export const parseAgentConfig = (env?: Record<string, string | undefined>) => parseConfig(agentConfigSchema, env);
