import { setTimeout as sleep } from "node:timers/promises";
import { type InboundCallOptions, inboundOverrides } from "../shared/call-options.js";
import { type CallPlayback, playCall } from "../shared/call-playback.js";
import { nowMicros } from "../shared/clock.js";
import { formatAmiBlock } from "./ami-block.js";
import { formatAmiTimestamp } from "./ami-time.js";
import type { CallIdentities } from "./call-identities.js";
import { type CallAllocation, type CallValues, type RenderedEvent, renderCall } from "./call-render.js";
import type { CallTemplates } from "./call-templates.js";
import type { CaptureTemplate } from "./capture-template.js";
import type { BridgeBlock, ChannelTable, LiveChannel } from "./channel-table.js";
import { conferenceLeaveEvents } from "./redirect-model.js";
import { factsOf } from "./simulated-calls.js";
import { withOriginateVariables } from "./supervisor-calls.js";

/** The recorded actions a controlled call waits for, each with the capture that shows what it does. */
export type ControlScenario = "blindTransfer" | "attendedTransfer" | "spy" | "park";

/** The AMI action each scenario's capture was recorded with. */
export const SCENARIO_ACTION: Readonly<Record<ControlScenario, string>> = {
  blindTransfer: "BlindTransfer",
  attendedTransfer: "Atxfer",
  spy: "Originate",
  park: "Park",
};

export interface ControlledCallOptions extends InboundCallOptions {
  /** How long the call stays up waiting for its action before both parties hang up; default 60 s. */
  readonly maxWaitMs?: number;
}

/** A call that is up and waits for its action. */
export interface AwaitingCall {
  readonly scenario: ControlScenario;
  readonly linkedid: string;
  /** The recorded Response's Message to the action ("Transfer succeeded"…). */
  readonly message: string;
  /**
   * The action came: plays what the capture recorded after it, shifted to now. `actionId` is the
   * action's own, for the events that echo it (OriginateResponse).
   */
  proceed(actionId: string, variables?: ReadonlyArray<readonly [string, string]>): void;
}

export interface ControlledCalls {
  /** Plays the call up to the recorded action; resolves when it ended (action played out, hung up, closed). */
  play(scenario: ControlScenario, options?: ControlledCallOptions): Promise<void>;
  /** The call waiting for `action` that has this channel, if any. */
  awaiting(action: string, channel: LiveChannel): AwaitingCall | undefined;
  /**
   * Hangs the channel up as `Action: Hangup` does (modeled: SoftHangupRequest and Hangup, then the
   * Hangup of the call's other channels, whose bridge dissolves), ending a waiting call.
   */
  hangup(channel: LiveChannel): Promise<void>;
  /** Plays events made up for an action no capture shows (MusicOnHoldStart…), to every client. */
  emit(events: readonly RenderedEvent[]): Promise<void>;
  /**
   * A Redirect took the call of this channel somewhere no capture shows (an intercept, a
   * conference): what is left of its recording is dropped, and `events` (modeled) play instead,
   * timed from now. The call then lasts until hung up (or `maxWaitMs` passes, when both parties
   * hang up). False when the channel's call is none the simulator can redirect (not played by
   * `play`, or already playing its recorded tail).
   */
  takeOver(channel: LiveChannel, events: (nowUs: number) => readonly RenderedEvent[]): boolean;
  /** Notes a conference member's room, so that its hangup first leaves the room (modeled). */
  joinedRoom(channelName: string, room: string, bridge: BridgeBlock): void;
  /** How many channels are in the room now. */
  roomSize(room: string): number;
  /** The bridge of a room that has members, if any. */
  roomBridge(room: string): BridgeBlock | undefined;
}

export interface ControlledCallsDeps extends CallPlayback<RenderedEvent> {
  readonly templates: CallTemplates;
  readonly identities: CallIdentities;
  readonly channels: ChannelTable;
}

interface Waiting extends AwaitingCall {
  end(): void;
}

/** A call `play` owns until it plays its recorded tail: a Redirect can take it over. */
interface Owned {
  /** Stops what is playing for it now (the head, or the modeled events of a take-over). */
  stop: AbortController;
  /** Taken over by a Redirect: runs on modeled until hung up. */
  free: boolean;
  maxWaitMs: number;
  end(): void;
}

/** An event Asterisk 20 would send about a channel: the header, its channel lines, then `extra`. */
export function channelEvent(
  event: string,
  channel: LiveChannel,
  extra: ReadonlyArray<readonly [string, string]> = [],
  privilege = "call,all",
): RenderedEvent {
  const atUs = nowMicros();
  const lines: Array<readonly [string, string]> = [
    ["Event", event],
    ["Privilege", privilege],
    ["Timestamp", formatAmiTimestamp(atUs)],
    ...channel.lines,
    ...extra,
  ];
  return { atUs, event, privilege, lines, text: formatAmiBlock(lines) };
}

const hangupLines = [
  ["Cause", "16"],
  ["Cause-txt", "Normal Clearing"],
] as const;

export function createControlledCalls(deps: ControlledCallsDeps): ControlledCalls {
  const waiting = new Set<Waiting>();
  /** The calls `play` owns, by Linkedid. */
  const owned = new Map<string, Owned>();
  /** Conference members by channel name. */
  const rooms = new Map<string, { readonly room: string; readonly bridge: BridgeBlock }>();

  const templateOf = (scenario: ControlScenario): CaptureTemplate => deps.templates[scenario];

  async function play(scenario: ControlScenario, options: ControlledCallOptions = {}): Promise<void> {
    const template = templateOf(scenario);
    const control = template.control;
    if (control === undefined) throw new Error(`${template.name} is no control capture`);
    const values: CallValues = { facts: factsOf(template, inboundOverrides(options)) };
    const allocation = deps.identities.allocate(template, { nowUs: nowMicros() });
    const head = renderCall(template, values, allocation).slice(0, control.headEvents);
    const last = head[head.length - 1];
    const linkedid = head.find((event) => event.event === "Newchannel")?.lines.find(([key]) => key === "Linkedid")?.[1];
    if (last === undefined || linkedid === undefined) return;

    let ended: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      ended = () => {
        if (owned.get(linkedid) === own) owned.delete(linkedid);
        resolve();
      };
    });
    const own: Owned = { stop: new AbortController(), free: false, maxWaitMs: options.maxWaitMs ?? 60_000, end: ended };
    owned.set(linkedid, own);
    await playCall(head, stoppable(own));
    if (own.free) return done;
    if (deps.signal.aborted || own.stop.signal.aborted) return ended();
    const call: Waiting = {
      scenario,
      linkedid,
      message: control.message,
      proceed(actionId, variables = []) {
        waiting.delete(call);
        // The recorded tail plays out as recorded: no Redirect takes it over.
        owned.delete(linkedid);
        // The wait, in whole seconds like every recorded shift, moves the tail to now.
        const waitedUs = Math.max(0, Math.ceil((nowMicros() - last.atUs) / 1_000_000) * 1_000_000);
        const shifted: CallAllocation = { ...allocation, ringDeltaUs: waitedUs };
        const request = { actionId: actionId === "" ? undefined : actionId } as CallValues["request"];
        const tail = renderCall(template, { ...values, request }, shifted).slice(control.headEvents);
        // 19s's Originate set no variables: an Originate's are set on its Local halves as 16p's are.
        playCall(withOriginateVariables(tail, variables), deps).then(ended, ended);
      },
      end: ended,
    };
    waiting.add(call);
    const timeout = sleep(own.maxWaitMs, undefined, { signal: deps.signal }).then(
      async () => {
        if (!waiting.has(call)) return;
        await hangUpCall(linkedid);
        waiting.delete(call);
        ended();
      },
      () => ended(),
    );
    deps.track(timeout);
    await done;
  }

  /** The playback of an owned call, stopped by the simulator's close or by a take-over. */
  const stoppable = (own: Owned): CallPlayback<RenderedEvent> => ({
    ...deps,
    signal: AbortSignal.any([deps.signal, own.stop.signal]),
  });

  /** Both parties hang up (a call left waiting too long), as a Hangup of its first channel does. */
  async function hangUpCall(linkedid: string): Promise<void> {
    const first = deps.channels.ofCall(linkedid)[0];
    if (first !== undefined) await hangup(first);
  }

  function takeOver(channel: LiveChannel, events: (nowUs: number) => readonly RenderedEvent[]): boolean {
    const own = owned.get(channel.linkedid);
    if (own === undefined) return false;
    for (const call of waiting) if (call.linkedid === channel.linkedid) waiting.delete(call);
    own.stop.abort();
    own.stop = new AbortController();
    if (!own.free) {
      own.free = true;
      const timeout = sleep(own.maxWaitMs, undefined, { signal: deps.signal }).then(
        async () => {
          if (owned.get(channel.linkedid) !== own) return;
          own.stop.abort();
          await hangUpCall(channel.linkedid);
          own.end();
        },
        () => own.end(),
      );
      deps.track(timeout);
    }
    void playCall(events(nowMicros()), stoppable(own));
    return true;
  }

  async function hangup(channel: LiveChannel): Promise<void> {
    for (const call of waiting) {
      if (call.linkedid !== channel.linkedid) continue;
      waiting.delete(call);
      call.end();
    }
    const free = owned.get(channel.linkedid);
    free?.stop.abort();
    const others = deps.channels.ofCall(channel.linkedid).filter((other) => other.name !== channel.name);
    deps.channels.remove(channel.name);
    for (const other of others) deps.channels.remove(other.name);
    const events = [
      channelEvent("SoftHangupRequest", channel, [["Cause", "16"]]),
      ...leaveRoom(channel),
      channelEvent("Hangup", channel, hangupLines),
      ...others.flatMap((other) => [...leaveRoom(other), channelEvent("Hangup", other, hangupLines)]),
    ];
    await deps.broadcast(events);
    if (free?.free) free.end();
  }

  /** A conference member's ConfbridgeLeave (and the room's end) before its Hangup. */
  function leaveRoom(channel: LiveChannel): RenderedEvent[] {
    const member = rooms.get(channel.name);
    if (member === undefined) return [];
    rooms.delete(channel.name);
    return conferenceLeaveEvents(channel, member.room, member.bridge, roomSize(member.room), nowMicros());
  }

  const roomSize = (room: string) => [...rooms.values()].filter((member) => member.room === room).length;

  return {
    play,
    awaiting(action, channel) {
      for (const call of waiting) {
        if (SCENARIO_ACTION[call.scenario] === action && call.linkedid === channel.linkedid) return call;
      }
      return undefined;
    },
    hangup,
    emit: (events) => deps.broadcast(events),
    takeOver,
    joinedRoom(channelName, room, bridge) {
      rooms.set(channelName, { room, bridge });
    },
    roomSize,
    roomBridge: (room) => [...rooms.values()].find((member) => member.room === room)?.bridge,
  };
}
