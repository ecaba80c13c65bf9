import type { EslEvent } from "./esl-event.js";
import type { EslNumberPlan } from "./esl-number-plan.js";

/** What a leg is to its call. */
export type LegRole =
  /** The leg the call started with: the caller, or the agent's phone of a click-to-call. */
  | "first"
  /** A leg the call dialed: a phone that rings, a trunk, a loopback. */
  | "dialed"
  /** A phone that took the call without being dialed by it (valet park pickup). */
  | "pickup"
  /** A supervisor listening in (eavesdrop): neither rung nor answering. */
  | "monitor";

/** One FreeSWITCH channel of a call, from creation to CHANNEL_HANGUP_COMPLETE. */
export interface TrackedLeg {
  readonly uuid: string;
  readonly channel: string;
  /** The extension whose phone the leg is; "" for trunk and loopback legs. */
  readonly extension: string;
  /** Gateway or trunk profile of a trunk leg; "" otherwise. */
  readonly trunk: string;
  /** The number the leg was created for (`Caller-Destination-Number` at creation). */
  readonly destination: string;
  role: LegRole;
  /**
   * FreeSWITCH's session counter (`session_id`): the order legs were really created in.
   * CHANNEL_CREATE events of a ring group's legs can arrive out of that order.
   */
  readonly order: number;
  readonly startedUs: number;
  answeredUs: number | undefined;
  /** CHANNEL_HANGUP seen: the cause is known, the leg is going. */
  hungUpUs: number | undefined;
  /** CHANNEL_HANGUP_COMPLETE (or DESTROY) seen: nothing more will come. */
  completedUs: number | undefined;
  /** FreeSWITCH `Hangup-Cause` name (ORIGINATOR_CANCEL, LOSE_RACE… kept apart from their Q.850 16). */
  causeName: string;
  q850: number;
  /** `sip_term_status`: set only when the far end ended the leg. */
  sipCode: number;
  /** `variable_billsec`, undefined until the leg completed. */
  billsec: number | undefined;
}

/** `sofia/<profile>/<user>@host`, `loopback/<exten>-a`… : the endpoint type, profile, user part. */
export interface ChannelName {
  readonly endpoint: string;
  readonly profile: string;
  readonly user: string;
}

export function parseChannelName(name: string): ChannelName {
  const [endpoint = "", second = "", ...rest] = name.split("/");
  if (endpoint === "sofia" && second === "gateway") {
    return { endpoint, profile: rest[0] ?? "", user: userPart(rest.slice(1).join("/")) };
  }
  if (rest.length === 0) return { endpoint, profile: "", user: userPart(second) };
  return { endpoint, profile: second, user: userPart(rest.join("/")) };
}

function userPart(value: string): string {
  const at = value.indexOf("@");
  return at < 0 ? value : value.slice(0, at);
}

/** Describes the leg an event is about (CHANNEL_CREATE, or the first event of a leg never seen created). */
export function describeLeg(event: EslEvent, uuid: string, atUs: number, plan: EslNumberPlan): TrackedLeg {
  const channel = event.get("Channel-Name") ?? event.get("Caller-Channel-Name") ?? "";
  const parsed = parseChannelName(channel);
  let extension = "";
  let trunk = "";
  if (parsed.endpoint === "sofia") {
    const gateway =
      event.variable("sip_gateway_name") ??
      (parsed.profile && channel.startsWith("sofia/gateway/") ? parsed.profile : "");
    const profile = event.variable("sofia_profile_name") ?? parsed.profile;
    const context = event.get("Caller-Context") ?? "";
    if (plan.isTrunkGateway(gateway ?? "")) trunk = gateway ?? "";
    else if (
      plan.isTrunkProfile(profile) ||
      (event.get("Call-Direction") === "inbound" && plan.isTrunkContext(context))
    ) {
      trunk = profile;
    } else {
      // `dialed_user` names the phone a B-leg rings; on an A-leg it is the callee's.
      const outbound = (event.get("Call-Direction") ?? event.variable("direction")) === "outbound";
      const user = (outbound ? event.variable("dialed_user") : undefined) ?? parsed.user;
      if (plan.isExtension(user)) extension = user;
      else if (plan.isExtension(event.get("Caller-Username") ?? "")) extension = event.get("Caller-Username") ?? "";
    }
  }
  return {
    uuid,
    channel,
    extension,
    trunk,
    destination: event.get("Caller-Destination-Number") ?? "",
    role: "first",
    order: Number(event.variable("session_id")) || Number.MAX_SAFE_INTEGER,
    startedUs: event.micros("Caller-Channel-Created-Time") ?? atUs,
    answeredUs: undefined,
    hungUpUs: undefined,
    completedUs: undefined,
    causeName: "",
    q850: 0,
    sipCode: 0,
    billsec: undefined,
  };
}
