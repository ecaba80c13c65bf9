import { formatAmiBlock } from "./ami-block.js";
import { formatAmiTimestamp } from "./ami-time.js";
import type { RenderedEvent } from "./call-render.js";
import { type BridgeBlock, CHANNEL_KEYS, type LiveChannel } from "./channel-table.js";

export type { BridgeBlock } from "./channel-table.js";

/**
 * Events for what no capture of the shipped call shows (an intercept, a ConfBridge, a spy on
 * any call), built in the shapes Asterisk 20 gives them in the ast-real captures: the channel
 * block of manager_channels.c in CHANNEL_KEYS order, `Dest*` / `Spyee*` prefixed copies of it,
 * the bridge block of manager_bridges.c, CRLF lines.
 */
export type Lines = ReadonlyArray<readonly [string, string]>;

/** An event at `atUs`: Event, Privilege, Timestamp, then `body`. */
export function amiEvent(event: string, atUs: number, body: Lines, privilege = "call,all"): RenderedEvent {
  const lines: Lines = [["Event", event], ["Privilege", privilege], ["Timestamp", formatAmiTimestamp(atUs)], ...body];
  return { atUs, event, privilege, lines, text: formatAmiBlock(lines) };
}

/** A channel's block, its keys prefixed as DialBegin's `Dest*` or ChanSpyStart's `Spyer*`/`Spyee*`. */
export const channelBlock = (channel: LiveChannel, prefix = ""): Lines =>
  channel.lines.map(([key, value]) => [`${prefix}${key}`, value] as const);

const STATE_DESC: Readonly<Record<string, string>> = { "0": "Down", "4": "Ring", "5": "Ringing", "6": "Up" };

/** The channel as its next event would print it, with some of its lines changed. */
export function changedChannel(channel: LiveChannel, changes: Readonly<Record<string, string>>): LiveChannel {
  const all = { ...changes };
  if (changes.ChannelState !== undefined) all.ChannelStateDesc = STATE_DESC[changes.ChannelState] ?? "Unknown";
  return { ...channel, lines: channel.lines.map(([key, value]) => [key, all[key] ?? value] as const) };
}

/** The channel a Newchannel announces (ast-real-14n: the dialed phone's PJSIP channel, Down, `s`). */
export function freshChannel(fields: {
  readonly name: string;
  readonly uniqueid: string;
  readonly linkedid: string;
  readonly callerIdNum: string;
  readonly callerIdName: string;
  readonly context: string;
  readonly exten: string;
  readonly state?: string;
  readonly atUs: number;
}): LiveChannel {
  const values: Record<(typeof CHANNEL_KEYS)[number], string> = {
    Channel: fields.name,
    ChannelState: fields.state ?? "0",
    ChannelStateDesc: STATE_DESC[fields.state ?? "0"] ?? "Down",
    CallerIDNum: fields.callerIdNum,
    CallerIDName: fields.callerIdName,
    ConnectedLineNum: "<unknown>",
    ConnectedLineName: "<unknown>",
    Language: "en",
    AccountCode: "",
    Context: fields.context,
    Exten: fields.exten,
    Priority: "1",
    Uniqueid: fields.uniqueid,
    Linkedid: fields.linkedid,
  };
  return {
    name: fields.name,
    uniqueid: fields.uniqueid,
    linkedid: fields.linkedid,
    lines: CHANNEL_KEYS.map((key) => [key, values[key]] as const),
    createdUs: fields.atUs,
    application: "",
    applicationData: "",
    bridgeId: "",
    variables: new Map(),
  };
}

export const lineOf = (channel: LiveChannel, key: string) => channel.lines.find(([name]) => name === key)?.[1] ?? "";

/** A channel event (Newchannel, Newstate, Newexten, VarSet, Hangup…): its block, then `extra`. */
export const channelEvent = (
  event: string,
  atUs: number,
  channel: LiveChannel,
  extra: Lines = [],
  privilege?: string,
) => amiEvent(event, atUs, [...channelBlock(channel), ...extra], privilege);

/** DialBegin / DialState / DialEnd (14n, 05e): the dialing channel, the dialed one as `Dest*`, then `extra`. */
export const dialEvent = (event: string, atUs: number, from: LiveChannel, to: LiveChannel, extra: Lines) =>
  amiEvent(event, atUs, [...channelBlock(from), ...channelBlock(to, "Dest"), ...extra]);

export const bridgeBlock = (bridge: BridgeBlock, channels: number): Lines => [
  ["BridgeUniqueid", bridge.id],
  ["BridgeType", bridge.type],
  ["BridgeTechnology", bridge.technology],
  ["BridgeCreator", bridge.creator],
  ["BridgeName", bridge.name],
  ["BridgeNumChannels", String(channels)],
  ["BridgeVideoSourceMode", "none"],
];

/** BridgeCreate / BridgeDestroy (bridge only), BridgeEnter / BridgeLeave (bridge, then the channel), as in 14n. */
export const bridgeEvent = (
  event: string,
  atUs: number,
  bridge: BridgeBlock,
  channels: number,
  channel?: LiveChannel,
) => amiEvent(event, atUs, [...bridgeBlock(bridge, channels), ...(channel === undefined ? [] : channelBlock(channel))]);

/** DeviceStateChange of a phone (05e, 14n): `PJSIP/1001` RINGING, INUSE, NOT_INUSE. */
export const deviceState = (atUs: number, device: string, state: string) =>
  amiEvent("DeviceStateChange", atUs, [
    ["Device", device],
    ["State", state],
  ]);

/** The device of a channel: `PJSIP/1001-0000002f` → `PJSIP/1001`, `Local/1005@from-internal-00000007;1` → `Local/1005@from-internal`. */
export const deviceOf = (name: string) => name.replace(/-[0-9a-f]{8}(;[12])?$/, "");

/** Hangup with Q.850 16, as the phones' hangups of 14n and 19s. */
export const NORMAL_CLEARING: Lines = [
  ["Cause", "16"],
  ["Cause-txt", "Normal Clearing"],
];
