import { rebuiltSequenceBase } from "../rebuilt-sequence.js";
import { type ChannelFacts, presented, type TrackedCall, type TrackedChannel } from "./ami-call.js";
import { beginDial, endDial } from "./ami-call-progress.js";
import type { AmiMessage } from "./ami-message.js";
import type { CallTrackerContext } from "./ami-tracker-context.js";

/**
 * Calls in progress rebuilt from `CoreShowChannel` items (issue 5, recovery): what a restarted
 * agent, or one whose PBX connection dropped, finds on the PBX. A recovered call emits nothing
 * when it is rebuilt (its start went out before, or happened while nobody listened); its later
 * events and its one HANGUP follow as usual.
 */

/**
 * When a call began on Asterisk, in ms, from its Linkedid (`[<systemname>-]<epoch seconds>.<n>`),
 * the same in every run; else from what CoreShowChannel's Duration told (`startedUs`).
 */
function linkedidStartMs(linkedid: string, startedUs: number): number {
  const seconds = /(\d+)\.\d+$/.exec(linkedid)?.[1];
  return seconds === undefined ? startedUs / 1000 : Number(seconds) * 1000;
}

const UP = "6";
const SUPERVISION_APPLICATIONS = new Set(["ChanSpy", "ExtenSpy"]);

export interface UnknownGroup {
  readonly linkedid: string;
  /** The Linkedid's own channel first, then the others in the PBX's order. */
  readonly items: AmiMessage[];
}

/** The items whose channel the tracker does not know, by Linkedid. */
export function groupUnknown(items: readonly AmiMessage[], known: (uniqueid: string) => boolean): UnknownGroup[] {
  const groups = new Map<string, AmiMessage[]>();
  for (const item of items) {
    const uniqueid = item.get("Uniqueid") ?? "";
    if (uniqueid === "" || known(uniqueid)) continue;
    const linkedid = item.get("Linkedid") || uniqueid;
    const group = groups.get(linkedid) ?? [];
    if (uniqueid === linkedid) group.unshift(item);
    else group.push(item);
    groups.set(linkedid, group);
  }
  return [...groups].map(([linkedid, grouped]) => ({ linkedid, items: grouped }));
}

/** `Duration: 00:01:05` (HH:MM:SS) as µs; 0 when unreadable. */
function durationUs(value: string | undefined): number {
  const match = /^(\d+):(\d\d):(\d\d)$/.exec(value ?? "");
  if (!match) return 0;
  return ((Number(match[1]) * 60 + Number(match[2])) * 60 + Number(match[3])) * 1_000_000;
}

function factsOf(item: AmiMessage, atUs: number): ChannelFacts {
  return {
    atUs: atUs - durationUs(item.get("Duration")),
    context: item.get("Context") ?? "",
    exten: item.get("Exten") ?? "",
    callerIdNumber: item.get("CallerIDNum") ?? "",
    callerIdName: item.get("CallerIDName") ?? "",
  };
}

/** A channel of the PBX as the tracker keeps it; up when its state says so. */
export function recoveredChannel(tracker: CallTrackerContext, item: AmiMessage, atUs: number): TrackedChannel {
  const facts = factsOf(item, atUs);
  const channel = tracker.describeChannel(item.get("Uniqueid") ?? "", item.get("Channel") ?? "", facts);
  if (item.get("ChannelState") === UP) channel.upUs = facts.atUs;
  return channel;
}

/**
 * Rebuilds one call: its first channel is the caller (inbound when that is a trunk), a phone
 * channel that is up answered it (at the time that channel was created: what the PBX still
 * tells; its ring time counts as talk), one that is not up yet rings. Nothing is emitted.
 */
export function recoverCall(
  tracker: CallTrackerContext,
  group: UnknownGroup,
  atUs: number,
  callId: string | undefined,
): TrackedCall | undefined {
  const [firstItem, ...rest] = group.items;
  if (firstItem === undefined) return undefined;
  const first = recoveredChannel(tracker, firstItem, atUs);
  const facts = factsOf(firstItem, atUs);
  const call = tracker.startCall(group.linkedid, first, facts);
  if (callId !== undefined && callId !== "") call.callId = callId;
  call.inbound = !call.clickToCall && first.trunk !== "";
  call.announced = true;
  // Numbered past anything the runs before emitted for it: no event id is reused (and dropped downstream).
  call.sequence = rebuiltSequenceBase(linkedidStartMs(group.linkedid, call.startedUs), atUs / 1000);
  call.callerIdNumber = presented(firstItem.get("CallerIDNum"));
  call.callerIdName = presented(firstItem.get("CallerIDName"));
  if (group.items.some((item) => SUPERVISION_APPLICATIONS.has(item.get("Application") ?? ""))) {
    call.supervision = true;
    return call;
  }
  call.heldOutputs = undefined;
  for (const item of rest) {
    const channel = recoveredChannel(tracker, item, atUs);
    tracker.addChannel(call, channel);
    if (channel.parsed.local !== undefined) continue;
    const leg = { from: first.uniqueid, to: channel, status: "" };
    call.legs.set(channel.uniqueid, leg);
    if (channel.trunk !== "") call.trunkDialed = true;
    if (channel.extension === "") continue;
    call.extensionDialed = true;
    if (!call.rung.includes(channel.extension)) call.rung.push(channel.extension);
    if (item.get("ChannelState") === UP) {
      leg.status = "ANSWER";
      channel.dialStatus = "ANSWER";
      call.answeredExtensions.add(channel.extension);
      if (call.answeredUs === undefined) {
        call.answeredUs = channel.upUs;
        call.answeredBy = channel.extension;
      }
    }
  }
  if (call.answeredUs === undefined && first.upUs !== undefined && first.extension !== "" && rest.length > 0) {
    // An extension's own call out through a trunk that answered.
    const far = [...call.channels.values()].find((channel) => channel !== first && channel.upUs !== undefined);
    if (far !== undefined) call.answeredUs = far.upUs;
  }
  return call;
}

/**
 * A call the tracker kept across a reconnect, as the PBX shows it now (`items` by Uniqueid): a
 * channel it dialed that went Up while nobody listened answered it meanwhile. CoreShowChannel
 * tells no answer time, so the answer is the moment the agent saw the channel up (`atUs`), and the
 * call's one ANSWERED goes out now, as that dial's DialEnd ANSWER would have. True if it changed.
 */
export function answerSeenUp(
  tracker: CallTrackerContext,
  call: TrackedCall,
  items: ReadonlyMap<string, AmiMessage>,
  atUs: number,
): boolean {
  let changed = false;
  for (const [uniqueid, leg] of call.legs) {
    if (leg.to.hungUp || leg.to.upUs !== undefined || items.get(uniqueid)?.get("ChannelState") !== UP) continue;
    leg.to.upUs = atUs;
    changed = true;
    if (leg.status === "") endDial(tracker, call, atUs, leg, "ANSWER");
  }
  return changed;
}

/**
 * A channel of a call the tracker kept that appeared while nobody listened. A phone joining a call
 * nobody answered yet (the next queue member, a redirect's target) rang for it: it is dialed from
 * the call's first channel, at its creation, and answers the call if it is up (at `atUs`, as
 * answerSeenUp). Any other channel joins silently, as in a rebuilt call.
 */
export function joinSeenChannel(tracker: CallTrackerContext, call: TrackedCall, item: AmiMessage, atUs: number): void {
  const channel = recoveredChannel(tracker, item, atUs);
  const phone = channel.extension !== "" && call.answeredUs === undefined && channel.extension !== call.agentExtension;
  if (!phone) {
    tracker.addChannel(call, channel);
    return;
  }
  const up = channel.upUs !== undefined;
  channel.upUs = undefined;
  tracker.addChannel(call, channel);
  beginDial(tracker, call, channel.startedUs, call.first.uniqueid, channel, channel.extension, "");
  const leg = call.legs.get(channel.uniqueid);
  if (!up || leg === undefined) return;
  channel.upUs = atUs;
  if (leg.status === "") endDial(tracker, call, atUs, leg, "ANSWER");
}
