import type { RenderedEvent } from "./call-render.js";
import type { LiveChannel } from "./channel-table.js";
import {
  amiEvent,
  type BridgeBlock,
  bridgeBlock as bridgeBlockOf,
  bridgeEvent,
  changedChannel,
  channelBlock as channelBlockOf,
  channelEvent,
  deviceOf,
  deviceState,
  dialEvent,
  freshChannel,
  lineOf,
  NORMAL_CLEARING,
} from "./modeled-events.js";

/** How long a phone a Redirect dials rings before it answers: the 2 s of 14n's 1001. */
export const MODELED_RING_US = 2_000_000;

/** Successive instants a few µs apart, as one thread's events are in the captures. */
function clock(startUs: number) {
  let atUs = startUs;
  return (gapUs = 100) => {
    atUs += gapUs;
    return atUs;
  };
}

const isUp = (channel: LiveChannel) => lineOf(channel, "ChannelState") === "6";

/**
 * What the redirected channels leave behind (modeled: no capture has a Redirect out of a Dial or a
 * bridge). A phone still ringing is cancelled as app_dial cancels it when its caller leaves Dial()
 * (05e's shape: DialEnd CANCEL, the leg's Hangup, its device NOT_INUSE), with cause 16: app_dial
 * hangs its legs up with the caller's cause, and a redirected caller has none, so NORMAL_CLEARING.
 * The redirected channels leave their bridge together; a partner left alone in it is hung up
 * (the Dial bridge dissolves), and the bridge goes.
 */
export function leaveEvents(
  moved: readonly LiveChannel[],
  others: readonly LiveChannel[],
  next: (gapUs?: number) => number,
  bridges: ReadonlyMap<string, BridgeBlock>,
): RenderedEvent[] {
  const events: RenderedEvent[] = [];
  const staying = others.filter((other) => !moved.some((channel) => channel.name === other.name));
  const hangUp = (channel: LiveChannel) => {
    events.push(channelEvent("Hangup", next(), channel, NORMAL_CLEARING));
    events.push(deviceState(next(), deviceOf(channel.name), "NOT_INUSE"));
  };
  for (const bridgeId of new Set(moved.map((channel) => channel.bridgeId))) {
    const bridge = bridges.get(bridgeId);
    if (bridgeId === "" || bridge === undefined) continue;
    const members = [
      ...moved.filter((channel) => channel.bridgeId === bridgeId),
      ...staying.filter((other) => other.bridgeId === bridgeId),
    ];
    for (const [index, channel] of members.entries()) {
      events.push(bridgeEvent("BridgeLeave", next(), bridge, members.length - index - 1, channel));
    }
    events.push(bridgeEvent("BridgeDestroy", next(), bridge, 0));
    for (const partner of staying.filter((other) => other.bridgeId === bridgeId)) hangUp(partner);
  }
  for (const other of staying) {
    if (other.bridgeId !== "" || isUp(other)) continue;
    const dialer = moved[0];
    if (dialer !== undefined) events.push(dialEvent("DialEnd", next(), dialer, other, [["DialStatus", "CANCEL"]]));
    hangUp(other);
  }
  return events;
}

export interface DialedPhone {
  readonly extension: string;
  readonly name: string;
  /** Counter and Uniqueid of its new PJSIP channel. */
  readonly counter: number;
  readonly uniqueid: string;
}

/**
 * A Redirect of a call's channel to `<extension>@<dial context>` (Intercept, a transfer by Redirect):
 * the phones it rang stop, the dialplan Dial()s the extension, which rings and answers, and the two
 * are bridged. Modeled on 14n's dial of 1001 (Newchannel `s` Down, DialBegin, DialState RINGING,
 * Newstate Ringing, 2 s, Newstate Up, DialEnd ANSWER, the caller Up, BridgeCreate, two BridgeEnter)
 * and 19s's `Dial(PJSIP/1005,20,Ttr)`; the phone's device states as in 14n.
 */
export function dialRedirectEvents(options: {
  readonly moved: LiveChannel;
  readonly others: readonly LiveChannel[];
  readonly context: string;
  readonly phone: DialedPhone;
  readonly bridge: BridgeBlock;
  readonly bridges: ReadonlyMap<string, BridgeBlock>;
  readonly nowUs: number;
}): RenderedEvent[] {
  const { phone, context } = options;
  const next = clock(options.nowUs);
  const events = leaveEvents([options.moved], options.others, next, options.bridges);
  let caller = changedChannel(options.moved, { Context: context, Exten: phone.extension, Priority: "1" });
  events.push(
    channelEvent(
      "Newexten",
      next(),
      caller,
      [
        ["Extension", phone.extension],
        ["Application", "Dial"],
        ["AppData", `PJSIP/${phone.extension},20,Ttr`],
      ],
      "dialplan,all",
    ),
  );
  const name = `PJSIP/${phone.extension}-${phone.counter.toString(16).padStart(8, "0")}`;
  let dialed = freshChannel({
    name,
    uniqueid: phone.uniqueid,
    linkedid: options.moved.linkedid,
    callerIdNum: phone.extension,
    callerIdName: phone.name,
    context,
    exten: "s",
    atUs: next(),
  });
  events.push(channelEvent("Newchannel", dialed.createdUs, dialed));
  dialed = changedChannel(dialed, {
    ConnectedLineNum: lineOf(caller, "CallerIDNum"),
    ConnectedLineName: lineOf(caller, "CallerIDName"),
    Exten: phone.extension,
  });
  events.push(dialEvent("DialBegin", next(), caller, dialed, [["DialString", phone.extension]]));
  caller = changedChannel(caller, { ConnectedLineNum: phone.extension, ConnectedLineName: phone.name });
  events.push(dialEvent("DialState", next(), caller, dialed, [["DialStatus", "RINGING"]]));
  dialed = changedChannel(dialed, { ChannelState: "5" });
  events.push(channelEvent("Newstate", next(), dialed));
  events.push(deviceState(next(), `PJSIP/${phone.extension}`, "RINGING"));
  dialed = changedChannel(dialed, { ChannelState: "6" });
  events.push(channelEvent("Newstate", next(MODELED_RING_US), dialed));
  events.push(deviceState(next(), `PJSIP/${phone.extension}`, "INUSE"));
  events.push(dialEvent("DialEnd", next(), caller, changedChannel(dialed, { Exten: "" }), [["DialStatus", "ANSWER"]]));
  if (!isUp(caller)) {
    caller = changedChannel(caller, { ChannelState: "6" });
    events.push(channelEvent("Newstate", next(), caller));
  }
  events.push(bridgeEvent("BridgeCreate", next(), options.bridge, 0));
  events.push(bridgeEvent("BridgeEnter", next(), options.bridge, 1, changedChannel(dialed, { Exten: "" })));
  events.push(bridgeEvent("BridgeEnter", next(), options.bridge, 2, caller));
  return events;
}

/** A ConfBridge room's bridge (modeled on app_confbridge: base softmix bridge named after the room). */
export const conferenceBridge = (id: string, room: string): BridgeBlock => ({
  id,
  type: "base",
  technology: "softmix",
  creator: "ConfBridge",
  name: room,
});

/**
 * A Redirect (and its ExtraChannel) into `<room>@<conference context>`, whose dialplan runs
 * ConfBridge(room) (modeled: no capture has a ConfBridge): the channels leave their bridge (a
 * partner left behind is hung up), run ConfBridge, and join the room's bridge: BridgeCreate and
 * ConfbridgeStart for a new room, then per channel BridgeEnter and ConfbridgeJoin. The event names
 * (lower-case b) and their fields (`Conference`, the bridge block, the channel block, `Admin`,
 * `Muted` on a join, `Admin` on a leave) are as apps/confbridge/confbridge_manager.c
 * confbridge_publish_manager_event writes them; their order among the bridge events is modeled.
 */
export function conferenceEvents(options: {
  readonly moved: readonly LiveChannel[];
  readonly others: readonly LiveChannel[];
  readonly context: string;
  readonly room: string;
  readonly bridge: BridgeBlock;
  /** How many channels the room has already; 0 creates it. */
  readonly members: number;
  readonly bridges: ReadonlyMap<string, BridgeBlock>;
  readonly nowUs: number;
}): RenderedEvent[] {
  const next = clock(options.nowUs);
  const { room, bridge } = options;
  const events = leaveEvents(options.moved, options.others, next, options.bridges);
  let members = options.members;
  for (const channel of options.moved) {
    const moved = changedChannel(channel, { Context: options.context, Exten: room, Priority: "1" });
    events.push(
      channelEvent(
        "Newexten",
        next(),
        moved,
        [
          ["Extension", room],
          ["Application", "ConfBridge"],
          ["AppData", room],
        ],
        "dialplan,all",
      ),
    );
    if (members === 0) {
      events.push(bridgeEvent("BridgeCreate", next(), bridge, 0));
      events.push(amiEvent("ConfbridgeStart", next(), [["Conference", room], ...bridgeBlockOf(bridge, 0)]));
    }
    members++;
    events.push(bridgeEvent("BridgeEnter", next(), bridge, members, moved));
    events.push(
      amiEvent("ConfbridgeJoin", next(), [
        ["Conference", room],
        ...bridgeBlockOf(bridge, members),
        ...channelBlockOf(moved),
        ["Admin", "No"],
        ["Muted", "No"],
      ]),
    );
  }
  return events;
}

/**
 * A conference member hanging up (modeled on app_confbridge): ConfbridgeLeave, BridgeLeave, and
 * ConfbridgeEnd with the room's BridgeDestroy when it was the last; its Hangup follows.
 */
export function conferenceLeaveEvents(
  channel: LiveChannel,
  room: string,
  bridge: BridgeBlock,
  remaining: number,
  atUs: number,
): RenderedEvent[] {
  const next = clock(atUs);
  const events = [
    amiEvent("ConfbridgeLeave", next(), [
      ["Conference", room],
      ...bridgeBlockOf(bridge, remaining + 1),
      ...channelBlockOf(channel),
      ["Admin", "No"],
    ]),
    bridgeEvent("BridgeLeave", next(), bridge, remaining, channel),
  ];
  if (remaining === 0) {
    events.push(amiEvent("ConfbridgeEnd", next(), [["Conference", room], ...bridgeBlockOf(bridge, 0)]));
    events.push(bridgeEvent("BridgeDestroy", next(), bridge, 0));
  }
  return events;
}
