import { CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { rebuiltSequenceBase } from "../rebuilt-sequence.js";
import { TrackedCall } from "./esl-call.js";
import { EslEvent } from "./esl-event.js";
import { answerLeg, type EslTrackerContext, MONITOR_APPLICATIONS } from "./esl-event-handlers.js";
import { describeLeg, type TrackedLeg } from "./esl-leg.js";

/**
 * A channel FreeSWITCH has now: a row of `show channels as json` (switch_core_sqldb.c's
 * `channels` table), plus what `uuid_getvar` told of it.
 */
export interface LiveChannel {
  readonly uuid: string;
  readonly direction: string;
  readonly createdEpoch: number;
  readonly name: string;
  readonly callstate: string;
  readonly cidName: string;
  readonly cidNum: string;
  /** The number the channel was created for (`initial_dest`; `dest` changes with transfers). */
  readonly dest: string;
  readonly context: string;
  readonly presenceId: string;
  /** The A-leg's uuid for every leg of a bridged call (Channel-Call-UUID), else the channel's own. */
  readonly callUuid: string;
  /** `answer_uepoch`, when it answered. */
  readonly answeredUs: number | undefined;
  /** `callmesh_call_id` of a click-to-call's first leg, or of a Spy's supervisor leg. */
  readonly callId: string | undefined;
  /** What the channel runs now (uuid_dump's `variable_current_application` and its data), when known. */
  readonly application?: { readonly name: string; readonly data: string } | undefined;
}

/** A supervisor's leg: it runs eavesdrop (or three_way…) on the leg its application's data names. */
function monitoredLeg(channel: LiveChannel): string | undefined {
  const application = channel.application;
  return application !== undefined && MONITOR_APPLICATIONS.has(application.name) ? application.data.trim() : undefined;
}

/** `show channels as json`'s rows (`{"row_count": 0}` when there are none) as LiveChannels, without the getvar facts. */
export function parseShowChannels(text: string): Omit<LiveChannel, "answeredUs" | "callId">[] {
  const parsed = JSON.parse(text) as { rows?: Record<string, string>[] };
  return (parsed.rows ?? []).map((row) => {
    const value = (name: string) => row[name] ?? "";
    return {
      uuid: value("uuid"),
      direction: value("direction"),
      createdEpoch: Number(value("created_epoch")) || 0,
      name: value("name"),
      callstate: value("callstate"),
      cidName: value("initial_cid_name") || value("cid_name"),
      cidNum: value("initial_cid_num") || value("cid_num"),
      dest: value("initial_dest") || value("dest"),
      context: value("initial_context") || value("context"),
      presenceId: value("presence_id"),
      callUuid: value("call_uuid") || value("uuid"),
    };
  });
}

/**
 * When a channel answered, from its `uuid_dump`: `Caller-Channel-Answered-Time` (µs, 0 while it has
 * not), else its `answer_uepoch` / `answer_epoch` variables where this FreeSWITCH sets them before
 * the hangup; undefined when none says it answered.
 */
export function answeredUsOfDump(dump: Readonly<Record<string, string>> | undefined): number | undefined {
  for (const [name, scale] of [
    ["Caller-Channel-Answered-Time", 1],
    ["variable_answer_uepoch", 1],
    ["variable_answer_epoch", 1_000_000],
  ] as const) {
    const value = Number(dump?.[name]);
    if (Number.isFinite(value) && value > 0) return value * scale;
  }
  return undefined;
}

/** The channel as the event a leg is described from (describeLeg reads the same headers). */
function asEvent(channel: LiveChannel): EslEvent {
  const headers = new Map<string, string>([
    ["Event-Name", "CHANNEL_DATA"],
    ["Unique-ID", channel.uuid],
    ["Channel-Name", channel.name],
    ["Call-Direction", channel.direction],
    ["Caller-Context", channel.context],
    ["Caller-Destination-Number", channel.dest],
    ["Caller-Caller-ID-Number", channel.cidNum],
    ["Caller-Caller-ID-Name", channel.cidName],
    ["Caller-Channel-Created-Time", String(channel.createdEpoch * 1_000_000)],
  ]);
  const presenceUser = channel.presenceId.split("@")[0] ?? "";
  if (presenceUser !== "") headers.set("variable_dialed_user", presenceUser);
  return EslEvent.fromHeaders(headers);
}

export interface RecoveryOutcome {
  /** Calls rebuilt from FreeSWITCH's channels that the tracker did not know. */
  adopted: number;
  /** Known calls that were answered while the agent was not listening: answered now. */
  answered: number;
  /** Known calls whose last legs went while the agent was not listening: ended now. */
  ended: number;
}

/**
 * Rebuilds the calls FreeSWITCH has that the tracker does not know: legs grouped by call_uuid,
 * the first leg the one whose uuid it is (else the oldest). `silent`: the agent (re)started, so
 * whatever happened before was reported by the process before it (the call's id is derived from
 * its first leg, or is its callmesh_call_id, as it was): nothing is emitted now, and the events
 * to come carry on, numbered past any the process before can have used. Otherwise the call
 * started while the session was down: its RINGING and ANSWERED go out now.
 */
export function adoptLiveCalls(context: EslTrackerContext, channels: readonly LiveChannel[], silent: boolean): number {
  const groups = new Map<string, LiveChannel[]>();
  for (const channel of channels) {
    if (channel.uuid === "" || context.callOfLeg(channel.uuid) !== undefined) continue;
    // A supervisor listening to a call is a monitor leg of that call (adoptSupervisors), no call of its own.
    if (monitoredLeg(channel) !== undefined) continue;
    const group = groups.get(channel.callUuid) ?? [];
    group.push(channel);
    groups.set(channel.callUuid, group);
  }
  let adopted = 0;
  for (const [callUuid, group] of groups) {
    group.sort((a, b) => a.createdEpoch - b.createdEpoch);
    const firstChannel = group.find((channel) => channel.uuid === callUuid) ?? group[0];
    if (firstChannel === undefined) continue;
    // A leg of a call the tracker knows (its A-leg tracked, this leg new): it joins that call.
    const known = context.callOfLeg(callUuid);
    const nowUs = Date.now() * 1000;
    const legOf = (channel: LiveChannel): TrackedLeg => {
      const leg = describeLeg(asEvent(channel), channel.uuid, nowUs, context.plan);
      leg.answeredUs = channel.answeredUs;
      return leg;
    };
    // A known call's own state says what went out of it (a restored one's too): its new legs are news.
    const tell = !silent || known !== undefined;
    let call = known;
    if (call === undefined) {
      const first = legOf(firstChannel);
      const origin =
        firstChannel.direction === "outbound" || firstChannel.callId !== undefined ? "originate" : "dialed";
      call = new TrackedCall(first.uuid, firstChannel.callId ?? context.newCallId(first.uuid), first, origin, {
        callerIdNumber: firstChannel.cidNum,
        callerIdName: firstChannel.cidName,
      });
      call.pending = false;
      call.announced = silent;
      // The runs before numbered the events they sent; the next ones must not reuse those numbers
      // (event ids are `<call id>:<sequence>`): past them by the ms since FreeSWITCH created the call.
      if (silent) call.sequence = rebuiltSequenceBase(firstChannel.createdEpoch * 1000, nowUs / 1000);
      context.startCall(call);
      if (first.extension !== "") call.addRung(first);
      adopted++;
    }
    for (const channel of group) {
      if (channel === firstChannel && known === undefined) continue;
      const leg = legOf(channel);
      context.addLeg(call, leg, "dialed");
      if (leg.extension !== "") {
        call.extensionDialed = true;
        call.addRung(leg);
      } else if (leg.trunk !== "") {
        call.trunkDialed = true;
        if (call.trunk === "") call.trunk = leg.trunk;
      }
      if (tell) context.emit(call, CallEventKind.RINGING, leg.startedUs, leg);
      if (leg.answeredUs === undefined || call.answeredUs !== undefined) continue;
      if (leg.extension !== "") call.answeredExtensions.add(leg.extension);
      call.answeredUs = leg.answeredUs;
      call.answeredBy = leg.extension;
      call.connectedTo = leg.extension || leg.destination;
      if (tell) context.emit(call, CallEventKind.ANSWERED, leg.answeredUs, leg);
    }
  }
  return adopted;
}

/**
 * Supervisors' legs FreeSWITCH has (after adoptLiveCalls, so the calls they listen to are known):
 * each becomes a monitor leg of the call it eavesdrops on, as its eavesdrop would have made it, and
 * one carrying a spy_call_id (the driver's Spy, before an agent restart) is that session again.
 */
export function adoptSupervisors(context: EslTrackerContext, channels: readonly LiveChannel[]): void {
  const nowUs = Date.now() * 1000;
  for (const channel of channels) {
    const target = monitoredLeg(channel);
    if (target === undefined || channel.uuid === "") continue;
    let leg = context.callOfLeg(channel.uuid)?.legs.get(channel.uuid);
    if (leg === undefined) {
      const call = context.callOfLeg(target);
      if (call === undefined) continue;
      leg = describeLeg(asEvent(channel), channel.uuid, nowUs, context.plan);
      leg.answeredUs = channel.answeredUs;
      context.addLeg(call, leg, "monitor");
    }
    if (leg.role === "monitor" && channel.callId !== undefined)
      context.adoptSpy(channel.callId, leg.uuid, leg.extension);
  }
}

/**
 * Known calls whose legs FreeSWITCH still has but that answered while the agent was not listening
 * (a call ringing when the session dropped): each such leg answers now, at the answer time
 * FreeSWITCH keeps for it, so the call's one ANSWERED goes out (named by that leg) as its
 * CHANNEL_ANSWER would have. Returns how many calls were answered so.
 */
export function answerKnownCalls(
  context: EslTrackerContext,
  known: readonly TrackedCall[],
  channels: readonly LiveChannel[],
): number {
  const answeredAt = new Map(
    channels.flatMap((channel) => (channel.answeredUs === undefined ? [] : [[channel.uuid, channel.answeredUs]])),
  );
  let answered = 0;
  for (const call of known) {
    if (call.ended) continue;
    const before = call.answeredUs;
    for (const leg of [...call.legs.values()].sort(
      (a, b) => (answeredAt.get(a.uuid) ?? 0) - (answeredAt.get(b.uuid) ?? 0),
    )) {
      const atUs = answeredAt.get(leg.uuid);
      if (atUs !== undefined && leg.answeredUs === undefined && leg.hungUpUs === undefined)
        answerLeg(context, call, leg, atUs);
    }
    if (before === undefined && call.answeredUs !== undefined) answered++;
  }
  return answered;
}

/**
 * Known calls whose legs FreeSWITCH no longer has: they hung up while the agent was not
 * listening (the session was down), so their hangup is now; a call whose legs are all gone
 * ends with its HANGUP and Cdr (talk time up to now: billsec was never seen).
 */
export function endVanishedCalls(
  context: EslTrackerContext,
  known: readonly TrackedCall[],
  live: ReadonlySet<string>,
): number {
  const nowUs = Date.now() * 1000;
  let ended = 0;
  for (const call of known) {
    if (call.ended) continue;
    for (const leg of call.legs.values()) {
      if (leg.completedUs !== undefined || live.has(leg.uuid)) continue;
      leg.hungUpUs ??= nowUs;
      leg.completedUs = nowUs;
      if (leg.causeName === "") leg.causeName = "NORMAL_CLEARING";
    }
    if (call.allLegsDone) {
      context.endCall(call, nowUs);
      ended++;
    }
  }
  return ended;
}
