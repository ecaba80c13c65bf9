import { parseConfig, portVar, z } from "@callmesh/platform/config.js";

// An unset or empty variable takes the default (plain coercion would read "" as 0).
const numberVar = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === "" ? undefined : value), schema);

const timeScaleVar = () =>
  numberVar(z.coerce.number().min(0).default(1)).describe(
    "multiplies the recorded gaps between events: 1 real time, 0.05 twenty times faster, 0 no delay",
  );

/** The protocols pbx-sim can serve: Asterisk AMI, FreeSWITCH event socket. */
export type PbxSimProtocol = "ami" | "esl";

const protocolsVar = z
  .preprocess(
    (value) => (value === undefined || value === "" ? "ami" : value),
    z
      .string()
      .transform((text) => [...new Set(text.split(",").map((word) => word.trim().toLowerCase()))])
      .pipe(z.array(z.enum(["ami", "esl"])).min(1)),
  )
  .describe('which simulators to run, comma-separated: "ami", "esl" or "ami,esl"');

/** Every setting of the simulators: env var, default, doc. */
export const pbxSimConfigSchema = z.object({
  PBX_SIM_PROTOCOLS: protocolsVar,
  AMI_SIM_HOST: z.string().min(1).default("127.0.0.1").describe("address the simulated Asterisk AMI listens on"),
  AMI_SIM_PORT: numberVar(portVar(5038)).describe("TCP port of the simulated AMI (0: any free port)"),
  AMI_SIM_USERNAME: z.string().min(1).default("callmesh").describe("AMI username clients log in with"),
  AMI_SIM_SECRET: z.string().min(1).default("callmesh").describe("AMI secret clients log in with"),
  AMI_SIM_TIME_SCALE: timeScaleVar(),
  AMI_SIM_CALL_INTERVAL_MS: numberVar(z.coerce.number().int().min(0).default(0)).describe(
    "play an inbound answered and an outbound busy call in turn every this many ms (0: no calls of its own)",
  ),
  ESL_SIM_HOST: z
    .string()
    .min(1)
    .default("127.0.0.1")
    .describe("address the simulated FreeSWITCH event socket listens on"),
  ESL_SIM_PORT: numberVar(portVar(8021)).describe("TCP port of the simulated event socket (0: any free port)"),
  ESL_SIM_PASSWORD: z
    .string()
    .min(1)
    .regex(/^[^\r\n]+$/, "one line")
    .default("ClueCon")
    .describe("event socket password clients `auth` with"),
  ESL_SIM_TIME_SCALE: timeScaleVar(),
  ESL_SIM_CALL_INTERVAL_MS: numberVar(z.coerce.number().int().min(0).default(0)).describe(
    "play an inbound answered and an outbound busy call in turn every this many ms (0: no calls of its own)",
  ),
  ESL_SIM_HEARTBEAT_MS: numberVar(z.coerce.number().int().min(0).default(20_000)).describe(
    "HEARTBEAT event interval in ms, FreeSWITCH's default 20000 (0: none)",
  ),
});

export type PbxSimConfig = z.infer<typeof pbxSimConfigSchema>;

export const parsePbxSimConfig = (env?: Record<string, string | undefined>) => parseConfig(pbxSimConfigSchema, env);
