import { setTimeout as sleep } from "node:timers/promises";
import { type InboundCallOptions, inboundOverrides } from "../shared/call-options.js";
import { type CallPlayback, playCall } from "../shared/call-playback.js";
import { nowMicros } from "../shared/clock.js";
import { type EslCallAllocation, type RenderedEslEvent, renderEslCall } from "./esl-call-render.js";
import type { ChannelTable } from "./esl-channel-table.js";
import type { EslControlScenario, EslControlTemplate } from "./esl-control-templates.js";
import { type EslEvent, eventHeader } from "./esl-event.js";
import { factsOf } from "./esl-simulated-calls.js";
import { formatGmtDate, formatLocalDate } from "./esl-time.js";

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
}

export interface EslControlledCallsDeps extends CallPlayback<RenderedEslEvent> {
  readonly templates: Readonly<Record<EslControlScenario, EslControlTemplate>>;
  readonly channels: ChannelTable;
  readonly allocate: (template: EslControlTemplate["template"]) => EslCallAllocation;
}

interface Waiting extends AwaitingEslCall {
  readonly command: string;
  readonly legs: ReadonlySet<string>;
  end(): void;
}

/** An event FreeSWITCH would fire about a channel now: its last event's channel data, renamed and re-dated. */
function channelEvent(
  last: EslEvent,
  name: string,
  changes: ReadonlyArray<readonly [string, string]>,
  source: readonly [file: string, func: string, line: number],
): RenderedEslEvent {
  const atUs = nowMicros();
  const sec = Math.floor(atUs / 1_000_000);
  const changed = new Map(changes);
  const stamped: Record<string, string> = {
    "Event-Name": name,
    "Event-Date-Local": formatLocalDate(sec),
    "Event-Date-GMT": formatGmtDate(sec),
    "Event-Date-Timestamp": String(atUs),
    "Event-Calling-File": source[0],
    "Event-Calling-Function": source[1],
    "Event-Calling-Line-Number": String(source[2]),
  };
  const headers: Array<readonly [string, string]> = [];
  for (const [key, value] of last.headers) {
    if (changed.has(key)) continue;
    headers.push([key, stamped[key] ?? value]);
  }
  headers.push(...changes);
  return { atUs, name, event: { headers } };
}

const HANGUP_SOURCE = ["switch_channel.c", "switch_channel_perform_hangup", 1166] as const;
const REPORTING_SOURCE = ["switch_core_state_machine.c", "switch_core_session_reporting_state", 943] as const;
const DESTROY_SOURCE = ["switch_core_session.c", "switch_core_session_perform_destroy", 1741] as const;
const HOLD_SOURCE = ["switch_channel.c", "switch_channel_mark_hold", 875] as const;

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

  async function play(scenario: EslControlScenario, options: EslControlledCallOptions = {}): Promise<void> {
    const control = deps.templates[scenario];
    const template = control.template;
    const facts = factsOf(template, inboundOverrides(options));
    const allocation = deps.allocate(template);
    const head = renderEslCall(template, { facts }, allocation).slice(0, control.headEvents);
    await playCall(head, deps);
    const last = head.at(-1);
    if (deps.signal.aborted || last === undefined) return;
    const legs = new Set(head.flatMap((event) => eventHeader(event.event, "Unique-ID") ?? []));

    let ended: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      ended = resolve;
    });
    const playTail = (job?: { jobUuid: string; argument: string; background: boolean }) => {
      // The wait, in whole seconds like every recorded shift, moves the tail to now.
      const waitedUs = Math.max(0, Math.ceil((nowMicros() - last.atUs) / 1_000_000) * 1_000_000);
      const shifted = { ...allocation, shiftUs: allocation.shiftUs + waitedUs };
      const values = { facts, jobUuid: job?.jobUuid ?? "", originateArg: job?.argument ?? "" };
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
        playTail(job);
      },
      end: ended,
    };
    waiting.add(call);
    const timeout = sleep(options.maxWaitMs ?? 60_000, undefined, { signal: deps.signal }).then(
      () => {
        if (!waiting.delete(call)) return;
        // Nobody sent the command: the call goes on as recorded (01a: the caller hangs up).
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
      const event = deps.channels.lastEvent(leg);
      if (event === undefined) continue;
      held.delete(leg);
      // answer_epoch is set at hangup: the channel's data has the answer time in µs.
      const answeredSec = Math.floor(Number(eventHeader(event, "Caller-Channel-Answered-Time") ?? 0) / 1_000_000);
      const billsec = answeredSec > 0 ? Math.max(0, Math.floor(nowMicros() / 1_000_000) - answeredSec) : 0;
      const state: ReadonlyArray<readonly [string, string]> = [
        ["Channel-State", "CS_HANGUP"],
        ["Channel-Call-State", "HANGUP"],
        ["Answer-State", "hangup"],
        ["Hangup-Cause", "NORMAL_CLEARING"],
      ];
      events.push(channelEvent(event, "CHANNEL_HANGUP", state, HANGUP_SOURCE));
      events.push(
        channelEvent(
          event,
          "CHANNEL_HANGUP_COMPLETE",
          [
            ["Channel-State", "CS_REPORTING"],
            ...state.slice(1),
            ["variable_hangup_cause", "NORMAL_CLEARING"],
            ["variable_hangup_cause_q850", "16"],
            ["variable_billsec", String(billsec)],
            ["variable_end_uepoch", String(nowMicros())],
          ],
          REPORTING_SOURCE,
        ),
      );
      events.push(channelEvent(event, "CHANNEL_DESTROY", [["Channel-State", "CS_DESTROY"]], DESTROY_SOURCE));
    }
    await deps.broadcast(events);
  }

  async function hold(uuid: string, on: boolean): Promise<boolean> {
    const last = deps.channels.lastEvent(uuid);
    if (last === undefined || (!on && !held.has(uuid))) return false;
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
  };
}
