import { setTimeout as sleep } from "node:timers/promises";
import { type InboundCallOptions, inboundOverrides } from "../shared/call-options.js";
import { type CallPlayback, playCall } from "../shared/call-playback.js";
import { nowMicros } from "../shared/clock.js";
import { type EslCallAllocation, type RenderedEslEvent, renderEslCall } from "./esl-call-render.js";
import { channelEvent, DESTROY_SOURCE, HANGUP_SOURCE, HOLD_SOURCE, REPORTING_SOURCE } from "./esl-channel-event.js";
import type { ChannelTable } from "./esl-channel-table.js";
import type { EslControlScenario, EslControlTemplate } from "./esl-control-templates.js";
import { type EslEvent, eventHeader } from "./esl-event.js";
import { parseOriginateVariables } from "./esl-originate-request.js";
import { factsOf } from "./esl-simulated-calls.js";

export interface EslControlledCallOptions extends InboundCallOptions {
  /** How long the call stays up waiting for its command before the rest plays anyway; default 60 s. */
  readonly maxWaitMs?: number;
}

/** A call that is up and waits for its recorded command. */
export interface AwaitingEslCall {
  readonly scenario: EslControlScenario;
  /** The command came: plays what the capture recorded after it, shifted to now. */
  proceed(command: { readonly jobUuid: string; readonly argument: string; readonly background: boolean }): void;
}

export interface EslControlledCalls {
  /** Plays the call up to the recorded command; resolves when it ended (played out, killed, closed). */
  play(scenario: EslControlScenario, options?: EslControlledCallOptions): Promise<void>;
  /** The call waiting for `command` (`uuid_transfer`…) that has the leg `uuid`, if any. */
  awaiting(command: string, uuid: string): AwaitingEslCall | undefined;
  /**
   * uuid_kill (modeled: no capture has one): the leg and its bridged partner (hangup_after_bridge)
   * send CHANNEL_HANGUP, CHANNEL_HANGUP_COMPLETE and CHANNEL_DESTROY, NORMAL_CLEARING; a
   * waiting call ends without its tail.
   */
  kill(uuid: string): Promise<void>;
  /**
   * uuid_hold / uuid_hold off: CHANNEL_HOLD / CHANNEL_UNHOLD of the leg with fs-real-18r's headers
   * (switch_channel_mark_hold, Channel-Call-State HELD / UNHELD). False when the leg is not held (off).
   */
  hold(uuid: string, on: boolean): Promise<boolean>;
  /**
   * A command took the call of this leg somewhere no capture shows (an intercept, a conference):
   * what is left of its recording is dropped, `events` (modeled, built once the head has played)
   * play instead, and the call lasts until its legs are killed (or `maxWaitMs` passes, when they
   * are). Undefined when the leg's call is none `play` holds (not played by it, or playing its
   * recorded tail).
   */
  takeOver(
    uuid: string,
    events: () => { readonly events: readonly RenderedEslEvent[]; readonly legs: readonly string[] },
  ): Promise<boolean>;
  /**
   * The modeled hangup of one leg (CHANNEL_HANGUP, CHANNEL_HANGUP_COMPLETE, CHANNEL_DESTROY) with a
   * cause (NORMAL_CLEARING as uuid_kill's, PICKED_OFF as an intercept's), at `atUs`.
   */
  hangupEvents(uuid: string, cause: string, atUs: number): RenderedEslEvent[];
  /**
   * Runs as a leg's uuid_kill events are built: its events go first (a conference member leaves
   * its room), and with `hangup: false` they replace the modeled hangup (a spy's recorded one).
   */
  onKill(listener: KillListener): void;
}

export interface EslControlledCallsDeps extends CallPlayback<RenderedEslEvent> {
  readonly templates: Readonly<Record<EslControlScenario, EslControlTemplate>>;
  readonly channels: ChannelTable;
  readonly allocate: (template: EslControlTemplate["template"]) => EslCallAllocation;
}

export type KillListener = (
  uuid: string,
) => { readonly events: readonly RenderedEslEvent[]; readonly hangup: boolean } | undefined;

/** A call `play` holds until its recorded tail plays: a command can take it over. */
interface Owned {
  readonly legs: Set<string>;
  /** Stops what plays for it now (its head, or the modeled events of a take-over). */
  stop: AbortController;
  /** Taken over: runs on modeled until its legs are killed. */
  free: boolean;
  readonly maxWaitMs: number;
  readonly headDone: Promise<void>;
  end(): void;
}

interface Waiting extends AwaitingEslCall {
  readonly command: string;
  readonly legs: ReadonlySet<string>;
  end(): void;
}

/** The leg a channel is bridged to, as its last event says. */
function partnerOf(last: EslEvent): string | undefined {
  return (
    eventHeader(last, "Other-Leg-Unique-ID") ??
    eventHeader(last, "variable_bridge_uuid") ??
    eventHeader(last, "variable_signal_bond")
  );
}

export function createEslControlledCalls(deps: EslControlledCallsDeps): EslControlledCalls {
  const waiting = new Set<Waiting>();
  const held = new Set<string>();
  /** The calls `play` holds until they play their recorded tail. */
  const owned = new Set<Owned>();
  const killListeners: KillListener[] = [];

  async function play(scenario: EslControlScenario, options: EslControlledCallOptions = {}): Promise<void> {
    const control = deps.templates[scenario];
    const template = control.template;
    const facts = factsOf(template, inboundOverrides(options));
    const allocation = deps.allocate(template);
    const head = renderEslCall(template, { facts }, allocation).slice(0, control.headEvents);
    const last = head.at(-1);
    if (last === undefined) return;
    const legs = new Set(head.flatMap((event) => eventHeader(event.event, "Unique-ID") ?? []));
    let ended: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      ended = () => {
        owned.delete(own);
        resolve();
      };
    });
    let headPlayed: () => void = () => undefined;
    const own: Owned = {
      legs,
      stop: new AbortController(),
      free: false,
      maxWaitMs: options.maxWaitMs ?? 60_000,
      headDone: new Promise((resolve) => {
        headPlayed = resolve;
      }),
      end: () => ended(),
    };
    owned.add(own);
    await playCall(head, stoppable(own));
    headPlayed();
    if (own.free) return done;
    if (deps.signal.aborted) return ended();
    const playTail = (job?: { jobUuid: string; argument: string; background: boolean }) => {
      // The wait, in whole seconds like every recorded shift, moves the tail to now.
      const waitedUs = Math.max(0, Math.ceil((nowMicros() - last.atUs) / 1_000_000) * 1_000_000);
      const shifted = { ...allocation, shiftUs: allocation.shiftUs + waitedUs };
      // An originate's `{vars}` go where the recorded ones were (19s: the supervisor's leg), as a click-to-call's.
      const braces = /^\s*\{([^}]*)\}/.exec(job?.argument ?? "")?.[1];
      const variables = braces === undefined ? [] : parseOriginateVariables(braces);
      const values = { facts, jobUuid: job?.jobUuid ?? "", originateArg: job?.argument ?? "", variables };
      const tail = renderEslCall(template, values, shifted).slice(control.headEvents);
      // A synchronous `api` fires no BACKGROUND_JOB.
      playCall(tail, deps, (event) => event.name === "BACKGROUND_JOB" && job?.background === false).then(ended, ended);
    };
    const call: Waiting = {
      scenario,
      command: control.command,
      legs,
      proceed(job) {
        waiting.delete(call);
        // The recorded tail plays as recorded: no command takes the call over any more.
        owned.delete(own);
        playTail(job);
      },
      end: ended,
    };
    waiting.add(call);
    const timeout = sleep(options.maxWaitMs ?? 60_000, undefined, { signal: deps.signal }).then(
      () => {
        if (!waiting.delete(call)) return;
        // Nobody sent the command: the call goes on as recorded (01a: the caller hangs up).
        owned.delete(own);
        if (control.command === "") playTail();
        else void kill([...legs][0] ?? "").then(ended);
      },
      () => ended(),
    );
    deps.track(timeout);
    await done;
  }

  async function kill(uuid: string): Promise<void> {
    const last = deps.channels.lastEvent(uuid);
    if (last === undefined) return;
    for (const call of waiting) {
      if (!call.legs.has(uuid)) continue;
      waiting.delete(call);
      call.end();
    }
    const partner = partnerOf(last);
    const legs = [uuid];
    if (partner !== undefined && partner !== uuid && deps.channels.lastEvent(partner) !== undefined) legs.push(partner);
    const events: RenderedEslEvent[] = [];
    for (const leg of legs) {
      let hangup = true;
      for (const listener of killListeners) {
        const reply = listener(leg);
        if (reply === undefined) continue;
        events.push(...reply.events);
        hangup &&= reply.hangup;
      }
      if (hangup) events.push(...hangupEvents(leg, "NORMAL_CLEARING", nowMicros()));
    }
    const free = [...owned].filter((own) => own.free && legs.some((leg) => own.legs.has(leg)));
    for (const own of free) own.stop.abort();
    await deps.broadcast(events);
    for (const own of free) {
      if ([...own.legs].every((leg) => deps.channels.lastEvent(leg) === undefined)) own.end();
    }
  }

  function hangupEvents(uuid: string, cause: string, atUs: number): RenderedEslEvent[] {
    const event = deps.channels.lastEvent(uuid);
    if (event === undefined) return [];
    held.delete(uuid);
    // answer_epoch is set at hangup: the channel's data has the answer time in µs.
    const answeredSec = Math.floor(Number(eventHeader(event, "Caller-Channel-Answered-Time") ?? 0) / 1_000_000);
    const billsec = answeredSec > 0 ? Math.max(0, Math.floor(atUs / 1_000_000) - answeredSec) : 0;
    const state: ReadonlyArray<readonly [string, string]> = [
      ["Channel-State", "CS_HANGUP"],
      ["Channel-Call-State", "HANGUP"],
      ["Answer-State", "hangup"],
      ["Hangup-Cause", cause],
    ];
    // switch_channel_cause_q850: a cause beyond Q.850's (PICKED_OFF, LOSE_RACE…) reports 16.
    const q850 = "16";
    return [
      channelEvent(event, "CHANNEL_HANGUP", state, HANGUP_SOURCE, atUs),
      channelEvent(
        event,
        "CHANNEL_HANGUP_COMPLETE",
        [
          ["Channel-State", "CS_REPORTING"],
          ...state.slice(1),
          ["variable_hangup_cause", cause],
          ["variable_hangup_cause_q850", q850],
          ["variable_billsec", String(billsec)],
          ["variable_end_uepoch", String(atUs)],
        ],
        REPORTING_SOURCE,
        atUs + 1,
      ),
      channelEvent(event, "CHANNEL_DESTROY", [["Channel-State", "CS_DESTROY"]], DESTROY_SOURCE, atUs + 2),
    ];
  }

  /** The playback of an owned call, stopped by the simulator's close or by a take-over. */
  const stoppable = (own: Owned): CallPlayback<RenderedEslEvent> => ({
    ...deps,
    signal: AbortSignal.any([deps.signal, own.stop.signal]),
  });

  async function takeOver(
    uuid: string,
    build: () => { readonly events: readonly RenderedEslEvent[]; readonly legs: readonly string[] },
  ): Promise<boolean> {
    const own = [...owned].find((candidate) => candidate.legs.has(uuid));
    if (own === undefined) return false;
    await own.headDone;
    if (!owned.has(own)) return false;
    for (const call of waiting) if (call.legs.has(uuid)) waiting.delete(call);
    own.stop.abort();
    own.stop = new AbortController();
    const { events, legs } = build();
    for (const leg of legs) own.legs.add(leg);
    if (!own.free) {
      own.free = true;
      const timeout = sleep(own.maxWaitMs, undefined, { signal: deps.signal }).then(
        async () => {
          if (!owned.has(own)) return;
          own.stop.abort();
          for (const leg of own.legs) await kill(leg);
          own.end();
        },
        () => own.end(),
      );
      deps.track(timeout);
    }
    void playCall(events, stoppable(own));
    return true;
  }

  async function hold(uuid: string, on: boolean): Promise<boolean> {
    const last = deps.channels.lastEvent(uuid);
    if (last === undefined) return false;
    // switch_ivr.c switch_ivr_hold / switch_ivr_unhold refuse a leg already held / not held (its callstate).
    const isHeld = held.has(uuid) || eventHeader(last, "Channel-Call-State") === "HELD";
    if (on === isHeld) return false;
    if (on) held.add(uuid);
    else held.delete(uuid);
    const name = on ? "CHANNEL_HOLD" : "CHANNEL_UNHOLD";
    await deps.broadcast([channelEvent(last, name, [["Channel-Call-State", on ? "HELD" : "UNHELD"]], HOLD_SOURCE)]);
    return true;
  }

  return {
    play,
    awaiting(command, uuid) {
      for (const call of waiting) if (call.command === command && call.legs.has(uuid)) return call;
      return undefined;
    },
    kill,
    hold,
    takeOver,
    hangupEvents,
    onKill(listener) {
      killListeners.push(listener);
    },
  };
}
