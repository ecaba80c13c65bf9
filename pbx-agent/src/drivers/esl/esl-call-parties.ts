import type { TrackedCall } from "./esl-call.js";
import type { TrackedLeg } from "./esl-leg.js";

/**
 * Who is who on a FreeSWITCH call, for the call-control commands: a command names a party
 * by an extension or a number of the call (the proto's `party`), FreeSWITCH wants a leg's
 * Unique-ID. Only live phone and trunk legs count: loopback halves are plumbing, a
 * supervisor's eavesdrop leg is not a party.
 */

/** The live phone and trunk legs of the call, in the order they started. */
export function liveLegs(call: TrackedCall): TrackedLeg[] {
  return [...call.legs.values()].filter(
    (leg) => leg.hungUpUs === undefined && leg.role !== "monitor" && !leg.channel.startsWith("loopback/"),
  );
}

/** The live leg of `party`: an extension, the number a trunk leg dialed, the caller's number, or a trunk's name. */
export function legOfParty(call: TrackedCall, party: string): TrackedLeg | undefined {
  const legs = liveLegs(call);
  return (
    legs.find((leg) => leg.extension === party) ??
    legs.find((leg) => leg.extension === "" && leg.role !== "first" && leg.destination === party) ??
    legs.find((leg) => leg === call.first && (call.fromNumber === party || call.callerIdNumber === party)) ??
    legs.find((leg) => leg.extension === "" && leg.trunk === party)
  );
}

/** The extension holding the call now: the last transfer target, else who answered. */
export function holderOf(call: TrackedCall): TrackedLeg | undefined {
  const legs = liveLegs(call);
  for (const extension of [call.transferredTo, call.answeredBy]) {
    if (extension === "") continue;
    const leg = [...legs].reverse().find((candidate) => candidate.extension === extension && candidate !== call.first);
    if (leg !== undefined) return leg;
  }
  return undefined;
}

/** The caller: the call's first leg (for a click-to-call, the agent's phone, which placed it). */
export function callerOf(call: TrackedCall): TrackedLeg | undefined {
  const legs = liveLegs(call);
  return legs.includes(call.first) ? call.first : legs[0];
}

/** The other live party of a two-party conversation with `leg`: the caller, else the first other one. */
export function otherParty(call: TrackedCall, leg: TrackedLeg): TrackedLeg | undefined {
  const others = liveLegs(call).filter((candidate) => candidate !== leg);
  const caller = callerOf(call);
  return others.find((candidate) => candidate === caller) ?? others[0];
}

/** Legs ringing a phone for the call now: dialed phone legs that neither answered nor hung up. */
export function ringingLegs(call: TrackedCall): TrackedLeg[] {
  return liveLegs(call).filter((leg) => leg.role === "dialed" && leg.extension !== "" && leg.answeredUs === undefined);
}

/** The extensions of ringingLegs, once each. */
export function ringingExtensions(call: TrackedCall): string[] {
  return [...new Set(ringingLegs(call).map((leg) => leg.extension))];
}
