import type { TrackedCall, TrackedChannel } from "./ami-call.js";

/**
 * Who is who on a call, for the call-control commands: a command names a party by an
 * extension or a number of the call (the proto's `party`), the PBX wants a channel.
 * Only live channels of phones and trunks count; Local channels are plumbing.
 */

/** The live phone and trunk channels of the call, in the order they appeared. */
export function liveParties(call: TrackedCall): TrackedChannel[] {
  return [...call.channels.values()].filter((channel) => !channel.hungUp && channel.parsed.local === undefined);
}

/** The name a channel goes by on the call: its extension, the number it dialed, or the caller's number. */
export function partyOf(call: TrackedCall, channel: TrackedChannel): string {
  if (channel.extension !== "") return channel.extension;
  if (channel.dialedNumber !== "") return channel.dialedNumber;
  if (channel === call.first) return call.fromNumber || call.callerIdNumber || channel.trunk;
  return channel.trunk;
}

/** The live channel of `party`: an extension, a dialed number, the caller's number, or a trunk's name. */
export function channelOfParty(call: TrackedCall, party: string): TrackedChannel | undefined {
  const parties = liveParties(call);
  return (
    parties.find((channel) => channel.extension === party) ??
    parties.find((channel) => channel.dialedNumber === party) ??
    parties.find((channel) => channel === call.first && (call.fromNumber === party || call.callerIdNumber === party)) ??
    parties.find((channel) => channel.extension === "" && channel.trunk === party)
  );
}

/** The extension holding the call now: the last transfer target, else who answered. */
export function holderOf(call: TrackedCall): TrackedChannel | undefined {
  const parties = liveParties(call);
  for (const extension of [call.transferredTo, call.answeredBy]) {
    if (extension === "") continue;
    const channel = parties.find((candidate) => candidate.extension === extension);
    if (channel !== undefined) return channel;
  }
  return undefined;
}

/**
 * The caller: the call's first channel when it is a phone or trunk; for a click-to-call
 * (first channel Local) the agent's phone, which placed it.
 */
export function callerOf(call: TrackedCall): TrackedChannel | undefined {
  const parties = liveParties(call);
  if (parties.includes(call.first)) return call.first;
  if (call.clickToCall) {
    const agent = parties.find((channel) => channel.extension === call.agentExtension);
    if (agent !== undefined) return agent;
  }
  return parties[0];
}

/** The other live party of a two-party conversation with `channel`: the caller, else the first other one. */
export function otherParty(call: TrackedCall, channel: TrackedChannel): TrackedChannel | undefined {
  const others = liveParties(call).filter((candidate) => candidate !== channel);
  const caller = callerOf(call);
  return others.find((candidate) => candidate === caller) ?? others[0];
}

/** Extensions whose phones ring for the call now: dial legs to a phone with no outcome yet. */
export function ringingExtensions(call: TrackedCall): string[] {
  const ringing: string[] = [];
  for (const leg of call.legs.values()) {
    const extension = leg.to.extension;
    if (leg.status === "" && extension !== "" && !leg.to.hungUp && leg.to.upUs === undefined) {
      if (!ringing.includes(extension)) ringing.push(extension);
    }
  }
  return ringing;
}
