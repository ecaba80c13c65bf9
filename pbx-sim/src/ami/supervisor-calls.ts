import { type CallPlayback, playCall } from "../shared/call-playback.js";
import { nowMicros } from "../shared/clock.js";
import { extensionName } from "../shared/extension-directory.js";
import { formatAmiBlock } from "./ami-block.js";
import { formatAmiTimestamp } from "./ami-time.js";
import type { CallIdentities } from "./call-identities.js";
import {
  type CallAllocation,
  type CallValues,
  originateVariableOrder,
  type RenderedEvent,
  renderCall,
} from "./call-render.js";
import type { CaptureTemplate } from "./capture-template.js";
import type { LiveChannel } from "./channel-table.js";
import { channelBlock } from "./modeled-events.js";
import { factsOf } from "./simulated-calls.js";

/** The ChanSpy Originate being played: its fields as the client sent them. */
export interface SpyOriginate {
  readonly actionId: string;
  readonly channel: string;
  readonly data: string;
  readonly supervisor: string;
  readonly variables: ReadonlyArray<readonly [string, string]>;
}

/**
 * A supervisor's ChanSpy Originate on a call no capture spies on: the supervisor's call of
 * ast-real-19s (Local/<supervisor>@from-internal ;1/;2, its PJSIP leg, ringing, answering,
 * OriginateResponse, ChanSpyStart on the spied channel), with the Originate's variables set on
 * both Local halves as 16p sets a click-to-call's; the rest of 19s's supervisor call (its
 * hangups, ChanSpyStop, its Cdrs) plays when the spied channel hangs up or a Hangup action
 * names one of the supervisor's channels.
 */
export interface SupervisorCalls {
  /** Plays the supervisor's call up to its listening; false when 19s has no supervisor call to give. */
  start(request: SpyOriginate, spied: LiveChannel): boolean;
  /** Sees every event played: the spied channel's Hangup ends its spies. */
  observe(event: RenderedEvent): void;
  /** A Hangup action on a supervisor's channel: the rest of its call plays; false for any other channel. */
  hangup(channel: LiveChannel): boolean;
}

export interface SupervisorCallsDeps extends CallPlayback<RenderedEvent> {
  /** ast-real-19s. */
  readonly template: CaptureTemplate;
  readonly headEvents: number;
  readonly identities: CallIdentities;
}

interface Listening {
  readonly spiedChannel: string;
  readonly linkedid: string;
  /** The rest of the call, played from `nowUs`. */
  readonly rest: (nowUs: number) => RenderedEvent[];
  readonly stop: AbortController;
}

const RECORDED_SUPERVISOR = "1005";
const RECORDED_NAME = extensionName(RECORDED_SUPERVISOR);
const SUPERVISOR_NUMBER = new RegExp(`(?<![\\w.])${RECORDED_SUPERVISOR}(?![\\w.])`, "g");

const lineValue = (event: RenderedEvent, key: string) => event.lines.find(([name]) => name === key)?.[1];

/** The event with its lines changed; its text written again as Asterisk writes one. */
function relined(event: RenderedEvent, lines: ReadonlyArray<readonly [string, string]>): RenderedEvent {
  return { ...event, lines, text: formatAmiBlock(lines) };
}

export function createSupervisorCalls(deps: SupervisorCallsDeps): SupervisorCalls {
  const listening = new Set<Listening>();

  /** 19s's tail, the supervisor's call only, for `request`, with every time moved by `deltaUs`. */
  function render(request: SpyOriginate, spied: LiveChannel, allocation: CallAllocation, deltaUs: number) {
    const values: CallValues = {
      facts: factsOf(deps.template, {}),
      request: {
        actionId: request.actionId === "" ? undefined : request.actionId,
        channel: request.channel,
        context: undefined,
        exten: undefined,
        callerIdNumber: request.supervisor,
        callerIdName: extensionName(request.supervisor),
      },
    };
    const tail = renderCall(deps.template, values, { ...allocation, ringDeltaUs: deltaUs }).slice(deps.headEvents);
    const first = tail.find((event) => event.event === "Newchannel");
    const linkedid = first === undefined ? "" : (lineValue(first, "Linkedid") ?? "");
    const mine = (event: RenderedEvent) =>
      event.lines.some(
        ([, value]) =>
          value === linkedid ||
          value.includes(`Local/${RECORDED_SUPERVISOR}@`) ||
          value.includes(`PJSIP/${RECORDED_SUPERVISOR}`),
      );
    const name = extensionName(request.supervisor);
    const events = tail.filter(mine).map((event) => {
      let lines = event.lines.map(([key, value]) => {
        if (request.supervisor === RECORDED_SUPERVISOR) return [key, value] as const;
        return [key, value.replace(SUPERVISOR_NUMBER, request.supervisor).replaceAll(RECORDED_NAME, name)] as const;
      });
      // The spied channel is the live one; the OriginateResponse echoes the Data sent.
      if (event.event === "ChanSpyStart" || event.event === "ChanSpyStop") {
        lines = [...lines.filter(([key]) => !key.startsWith("Spyee")), ...channelBlock(spied, "Spyee")];
      }
      if (event.event === "OriginateResponse") {
        lines = lines.map(([key, value]) => [key, key === "Data" ? request.data : value] as const);
      }
      return lines.some(([key, value], index) => event.lines[index]?.[0] !== key || event.lines[index]?.[1] !== value)
        ? relined(event, lines)
        : event;
    });
    return { linkedid, events: withOriginateVariables(events, request.variables) };
  }

  function start(request: SpyOriginate, spied: LiveChannel): boolean {
    const allocation = deps.identities.allocate(deps.template, { nowUs: nowMicros() });
    const recorded = render(request, spied, allocation, 0);
    const firstUs = recorded.events[0]?.atUs;
    if (firstUs === undefined) return false;
    // Whole seconds, as every recorded shift: the supervisor's call starts now.
    const deltaUs = Math.ceil((nowMicros() - firstUs) / 1_000_000) * 1_000_000;
    const { linkedid, events } = render(request, spied, allocation, deltaUs);
    const split = events.findIndex(
      (event) => /^(Soft)?HangupRequest$|^Hangup$/.test(event.event) && lineValue(event, "Linkedid") === linkedid,
    );
    const until = split < 0 ? events.length : split;
    const stop = new AbortController();
    const call: Listening = {
      spiedChannel: spied.name,
      linkedid,
      stop,
      rest: (nowUs) => {
        // Later than recorded, by whole seconds: its Timestamps move, its ids (and Cdr times) stay as rendered.
        const rest = events.slice(until);
        const offsetUs = Math.max(0, Math.ceil((nowUs - (rest[0]?.atUs ?? nowUs)) / 1_000_000) * 1_000_000);
        return rest.map((event) => retimed(event, offsetUs));
      },
    };
    listening.add(call);
    deps.track(playCall(events.slice(0, until), { ...deps, signal: AbortSignal.any([deps.signal, stop.signal]) }));
    return true;
  }

  function end(call: Listening): void {
    if (!listening.delete(call)) return;
    call.stop.abort();
    // After the event being played: the spied channel's Hangup goes out first, as in 19s.
    deps.track(new Promise((resolve) => setImmediate(resolve)).then(() => playCall(call.rest(nowMicros()), deps)));
  }

  return {
    start,
    observe(event) {
      if (event.event !== "Hangup") return;
      const name = lineValue(event, "Channel");
      for (const call of listening) if (call.spiedChannel === name) end(call);
    },
    hangup(channel) {
      for (const call of listening) {
        if (call.linkedid !== channel.linkedid) continue;
        end(call);
        return true;
      }
      return false;
    },
  };
}

function retimed(event: RenderedEvent, offsetUs: number): RenderedEvent {
  if (offsetUs === 0) return event;
  const atUs = event.atUs + offsetUs;
  const lines = event.lines.map(
    ([key, value]) => [key, key === "Timestamp" ? formatAmiTimestamp(atUs) : value] as const,
  );
  return { ...relined(event, lines), atUs };
}

/**
 * The Originate's variables as Asterisk sets them (16p): on Local;1 right after its first Newexten,
 * copied to Local;2 right after ;1's NewConnectedLine, each a VarSet with the half's channel block.
 */
export function withOriginateVariables(
  events: readonly RenderedEvent[],
  variables: ReadonlyArray<readonly [string, string]>,
): RenderedEvent[] {
  if (variables.length === 0) return [...events];
  const order = originateVariableOrder(variables);
  const half = (suffix: string) => (event: RenderedEvent) => lineValue(event, "Channel")?.endsWith(suffix) ?? false;
  const afterSet = events.findIndex((event) => event.event === "Newexten" && half(";1")(event));
  const afterCopy = events.findIndex((event) => event.event === "NewConnectedLine" && half(";1")(event));
  const two = events.find((event) => event.event === "Newchannel" && half(";2")(event));
  const varSets = (after: RenderedEvent | undefined, of: RenderedEvent | undefined, list: typeof order.set) =>
    after === undefined || of === undefined
      ? []
      : list.map(([name, value]) => {
          const block = of.lines.filter(
            ([key]) => !["Event", "Privilege", "Timestamp", "Extension", "Application", "AppData"].includes(key),
          );
          const lines: Array<readonly [string, string]> = [
            ["Event", "VarSet"],
            ["Privilege", "dialplan,all"],
            ["Timestamp", lineValue(after, "Timestamp") ?? ""],
            ...block,
            ["Variable", name],
            ["Value", value],
          ];
          return { atUs: after.atUs, event: "VarSet", privilege: "dialplan,all", lines, text: formatAmiBlock(lines) };
        });
  const out: RenderedEvent[] = [];
  for (const [index, event] of events.entries()) {
    out.push(event);
    if (index === afterSet) out.push(...varSets(event, event, order.set));
    if (index === afterCopy) out.push(...varSets(event, two, order.copy));
  }
  return out;
}
