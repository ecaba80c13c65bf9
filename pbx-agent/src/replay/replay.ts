import { toJsonString } from "@bufbuild/protobuf";
import { CallEventSchema } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { CdrSchema } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import type { Logger } from "@callmesh/platform/logging.js";
import type { Registry } from "@callmesh/platform/metrics.js";
import { createAmiNormalizer } from "../drivers/ami/ami-normalizer.js";
import { createEslNormalizer } from "../drivers/esl/esl-normalizer.js";
import type { CallOutput } from "../ports/pbx-driver.js";
import type { PbxNormalizer } from "../ports/pbx-normalizer.js";
import { withoutCommentHeader } from "./capture-file.js";

export const replayDrivers = ["ami", "esl"] as const;
export type ReplayDriver = (typeof replayDrivers)[number];

/** Which legs are trunks and which numbers extensions: the facts direction comes from. */
export interface TrunkRules {
  /** Dialplan contexts calls from carriers enter (AMI and ESL); `*` at the end matches a prefix. */
  trunkContexts?: readonly string[];
  /** FreeSWITCH sofia profiles that face carriers. */
  trunkProfiles?: readonly string[];
  /** FreeSWITCH gateways that are trunks. */
  trunkGateways?: readonly string[];
  extensionPattern?: RegExp;
}

export interface ReplayOptions extends TrunkRules {
  driver: ReplayDriver;
  /** Seeds the call ids, as the agent's id does live. */
  agentId: string;
  /** Receives each output line, in order. */
  write(line: string): void;
  logger?: Logger;
  metrics?: Registry;
}

/**
 * One JSON line per output, in protobuf JSON names: `{"event": <CallEvent>}` or
 * `{"cdr": <Cdr>}`. The object is spelled out so the message's own JSON is embedded as is.
 */
export function outputLine(output: CallOutput): string {
  return output.kind === "event"
    ? `{"event":${toJsonString(CallEventSchema, output.event)}}`
    : `{"cdr":${toJsonString(CdrSchema, output.cdr)}}`;
}

/**
 * Replays a captured PBX session through the same normalizer the live driver uses and
 * writes what the agent would have sent: the debugging tool for "why is this call labelled
 * so". The capture may start with `#` comment lines and may interleave what the client sent.
 */
export function replayCapture(capture: Uint8Array, options: ReplayOptions): void {
  const onOutput = (output: CallOutput) => options.write(outputLine(output));
  const common = { agentId: options.agentId, onOutput, logger: options.logger, metrics: options.metrics };
  const normalizer: PbxNormalizer =
    options.driver === "ami"
      ? createAmiNormalizer({
          ...common,
          trunkContexts: options.trunkContexts,
          extensionPattern: options.extensionPattern,
        })
      : createEslNormalizer({
          ...common,
          trunkContexts: options.trunkContexts,
          trunkProfiles: options.trunkProfiles,
          trunkGateways: options.trunkGateways,
          extensionPattern: options.extensionPattern,
        });
  normalizer.push(withoutCommentHeader(capture));
  normalizer.end();
}
