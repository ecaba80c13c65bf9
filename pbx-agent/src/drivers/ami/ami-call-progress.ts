import type { DialLeg, TrackedCall, TrackedChannel } from "./ami-call.js";
import { parseChannelName } from "./ami-channel-name.js";
import type { NumberPlan } from "./ami-number-plan.js";
import type { CallTrackerContext } from "./ami-tracker-context.js";

/**
 * The steps every call shape is made of — a dial starts, an extension rings, a dial ends,
 * someone answers — whichever events (Dial, app_queue, Asterisk 11 or 20) reported them.
 */

/** An extension's phone starts ringing for the call; once per extension. */
export function ringExtension(
  tracker: CallTrackerContext,
  call: TrackedCall,
  atUs: number,
  extension: string,
  legId: string,
): void {
  if (extension === "" || call.rung.includes(extension)) return;
  call.rung.push(extension);
  tracker.emitRinging(call, atUs, extension, legId);
}

/**
 * An extension picked up, or the far end of a dialed trunk (`extension` "", `named` the
 * number it rang); the first one answers the call, later ones (after a transfer) only
 * stop being missed. The far end answers nobody's extension: `answeredBy` stays "".
 */
export function answerBy(
  tracker: CallTrackerContext,
  call: TrackedCall,
  atUs: number,
  extension: string,
  legId: string,
  named = extension,
): void {
  if (extension !== "") call.answeredExtensions.add(extension);
  if (call.answeredUs !== undefined) return;
  call.answeredUs = atUs;
  call.answeredBy = extension;
  tracker.emitAnswered(call, atUs, named, legId);
}

/**
 * A trunk channel the call dialed starts ringing the outside number: an event named by
 * that number, as FreeSWITCH's driver names a dialed gateway leg by its destination, but
 * not a rung extension (it stays out of the Cdr's rung and missed lists). Like ESL, it
 * counts from the moment the leg is created, whatever came next (486 with no 180, 404).
 * Once per trunk channel; a second trunk dialed (failover) rings again.
 */
function ringTrunk(
  tracker: CallTrackerContext,
  call: TrackedCall,
  atUs: number,
  to: TrackedChannel,
  number: string,
): void {
  if (number === "" || to.dialedNumber !== "") return;
  to.dialedNumber = number;
  tracker.emitRinging(call, atUs, number, to.uniqueid);
}

/**
 * A channel of the call dials another one. `destExten` is the dialed channel's extension
 * (DialBegin's `DestExten`, "" when unknown), `dialString` what Dial was given for it
 * (`0035799123456@provider`, `provider/0035799123456`; "" when unknown).
 */
export function beginDial(
  tracker: CallTrackerContext,
  call: TrackedCall,
  atUs: number,
  from: string,
  to: TrackedChannel,
  destExten: string,
  dialString: string,
): void {
  const leg: DialLeg = { from, to, status: "" };
  call.legs.set(to.uniqueid, leg);
  tracker.announce(call);
  // Originate's own dial of its Local channel: plumbing, not a call party.
  if (from === "") return;
  const agentLeg = call.isAgentLeg(leg);
  // An Originate rings the agent's phone through its Local channel, whatever the phone's name.
  if (agentLeg && to.extension === "" && to.parsed.local === undefined) {
    to.extension = call.agentExtension;
    to.trunk = "";
  }
  if (to.extension !== "") {
    if (isRedirect(call, from, to.extension)) {
      const previous = call.transferredTo || call.answeredBy;
      call.transferredTo = to.extension;
      tracker.emitTransferred(call, atUs, previous, "");
    }
    if (!agentLeg) {
      call.extensionDialed = true;
      if (call.clickToCall && call.toNumber === "") call.toNumber = to.extension;
      tracker.releaseHeld(call);
    }
    ringExtension(tracker, call, atUs, to.extension, to.uniqueid);
  } else if (to.trunk !== "") {
    call.trunkDialed = true;
    if (call.trunk === "") call.trunk = to.trunk;
    const number = numberOfDialString(dialString, to.trunk) || (destExten === "s" ? "" : destExten);
    if (call.clickToCall && call.toNumber === "") call.toNumber = number;
    tracker.releaseHeld(call);
    // ESL names the leg by the number it was created for; a Dial string naming only the
    // trunk (`provider`, Asterisk 11's `SIP/provider`) leaves the call's to_number as the best match.
    ringTrunk(tracker, call, atUs, to, number || call.destination);
  }
}

/**
 * The outside number in a Dial's string for a trunk: `0035799123456@provider` (PJSIP),
 * `provider/0035799123456` (chan_sip, IAX2), `provider/sip:0035799123456@host`; "" when
 * it names only the trunk (`provider`).
 */
export function numberOfDialString(dialString: string, trunk: string): string {
  const slash = dialString.indexOf("/");
  let number = slash < 0 ? dialString : dialString.slice(slash + 1);
  if (number.startsWith("sip:") || number.startsWith("tel:")) number = number.slice(4);
  else if (number.startsWith("sips:")) number = number.slice(5);
  const at = number.indexOf("@");
  if (at >= 0) number = number.slice(0, at);
  return number === trunk ? "" : number;
}

/**
 * The caller's own channel dials another extension after the one who answered left:
 * the call was moved on without a transfer event (AMI Redirect, a dialplan Goto after
 * the agent hung up). BlindTransfer, when there is one, named the target already.
 */
function isRedirect(call: TrackedCall, from: string, extension: string): boolean {
  if (from !== call.first.uniqueid || call.answeredUs === undefined) return false;
  const holder = call.transferredTo || call.answeredBy;
  if (holder === "" || extension === holder) return false;
  for (const channel of call.channels.values()) {
    if (channel.extension === holder && !channel.hungUp) return false;
  }
  return true;
}

/** A dial ended: answered (who?), or why not. Only its first ending counts. */
export function endDial(
  tracker: CallTrackerContext,
  call: TrackedCall,
  atUs: number,
  leg: DialLeg,
  status: string,
): void {
  leg.status = status;
  if (leg.to.dialStatus === "") leg.to.dialStatus = status;
  const party = leg.to.extension || leg.to.trunk;
  if (status === "ANSWER" && leg.to.upUs === undefined) leg.to.upUs = atUs;
  if (leg.from === "" || party === "") return;
  if (status !== "ANSWER") {
    call.dialStatus = status;
    return;
  }
  if (call.isAgentLeg(leg)) {
    // Click-to-call: the agent picked up; the call is answered when the destination is.
    call.agentAnswered = true;
    if (leg.to.extension !== "") call.answeredExtensions.add(leg.to.extension);
    return;
  }
  answerBy(tracker, call, atUs, leg.to.extension, leg.to.uniqueid, leg.to.extension || leg.to.dialedNumber);
}

/**
 * The extension of a queue member interface or a transfer target: `SIP/203`,
 * `PJSIP/1001`, `Local/1001@from-queue/n`; "" when it is not an extension.
 */
export function extensionOfInterface(value: string, plan: NumberPlan): string {
  const name = value.endsWith("/n") ? value.slice(0, -2) : value;
  const parsed = parseChannelName(name);
  const candidate = parsed.local?.exten ?? parsed.resource;
  return plan.isExtension(candidate) ? candidate : "";
}

/** Who a channel of the call is, for events about it: its extension, else the Local exten it runs. */
export function extensionOfChannel(channel: TrackedChannel | undefined, plan: NumberPlan): string {
  if (channel === undefined) return "";
  if (channel.extension !== "") return channel.extension;
  const exten = channel.parsed.local?.exten ?? "";
  return plan.isExtension(exten) ? exten : "";
}
