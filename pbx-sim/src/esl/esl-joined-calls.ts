import { randomUUID } from "node:crypto";
import type { Logger } from "@callmesh/platform/logging.js";
import { type CallPlayback, playCall } from "../shared/call-playback.js";
import { nowMicros } from "../shared/clock.js";
import type { EslCallAllocation, RenderedEslEvent } from "./esl-call-render.js";
import type { EslCaptureTemplate } from "./esl-capture-template.js";
import {
  ANSWER_SOURCE,
  bridgeEvent,
  channelEvent,
  customChannelEvent,
  type EventSource,
  EXECUTE_SOURCE,
} from "./esl-channel-event.js";
import type { EslControlledCalls } from "./esl-controlled-calls.js";
import { type EslEvent, eventHeader } from "./esl-event.js";
import { type JoiningLeg, renderJoiningLeg } from "./esl-joining-leg.js";

/**
 * What FreeSWITCH does after the commands no capture of the played call shows, each modeled on
 * the captures' shapes: an originate of a phone into `&intercept(<leg>)` or `&eavesdrop(<leg>)`
 * (its leg is fs-real-19s's supervisor leg), and `uuid_transfer … conference:<room>@<profile>`.
 */
export interface EslJoinedCalls {
  /**
   * `&intercept(<leg>)` on a ringing call `play` holds: the phone rings and answers (19s's leg),
   * runs intercept, the caller is answered, the ringing leg hangs up PICKED_OFF, and the caller is
   * bridged to the phone. Undefined when the leg's call is none the simulator can take over.
   */
  intercept(request: JoinRequest): Promise<JoiningLeg | undefined>;
  /**
   * `&eavesdrop(<leg>)` / `&three_way(<leg>)`: the phone's leg of 19s plays up to its MEDIA_BUG_START
   * on the leg; the rest of 19s's leg (its hangup, MEDIA_BUG_STOP) plays when the spied leg hangs up
   * or the phone's leg is killed.
   */
  spy(request: JoinRequest): JoiningLeg;
  /** `uuid_transfer <leg> [-both] conference:<room>@<profile> inline`; false when the call is none `play` holds. */
  conference(uuid: string, both: boolean, room: string, profile: string): Promise<boolean>;
  /** Sees every event played (the spied leg's hangup ends its spies). */
  observe(event: RenderedEslEvent): void;
}

export interface JoinRequest {
  readonly extension: string;
  readonly application: string;
  readonly target: string;
  readonly jobUuid: string;
  readonly originateArg: string;
  readonly background: boolean;
  readonly variables: ReadonlyArray<readonly [string, string]>;
}

export interface EslJoinedCallsDeps extends CallPlayback<RenderedEslEvent> {
  readonly controlled: EslControlledCalls;
  readonly lastEvent: (uuid: string) => EslEvent | undefined;
  /** The legs whose other leg is this one (a caller's ringing phones). */
  readonly partnersOf: (uuid: string) => string[];
  readonly joiningLeg: EslCaptureTemplate;
  readonly allocate: (template: EslCaptureTemplate) => EslCallAllocation;
  readonly logger: Logger;
}

/** mod_conference fires its member events from conference_member.c (modeled: no capture has a conference). */
const CONFERENCE_SOURCE: EventSource = ["conference_member.c", "conference_member_add", 1130];
const CONFERENCE_DEL_SOURCE: EventSource = ["conference_member.c", "conference_member_del", 1436];

interface Room {
  readonly name: string;
  readonly profile: string;
  readonly uuid: string;
  readonly domain: string;
  readonly members: Map<string, number>;
  nextMember: number;
}

interface Spy {
  readonly leg: string;
  readonly target: string;
  readonly allocation: EslCallAllocation;
  readonly request: JoinRequest;
  readonly targetEvent: EslEvent;
  readonly startedUs: number;
  readonly endingOffsetUs: number;
}

const set = (event: EslEvent, changes: Record<string, string>): EslEvent => ({
  headers: event.headers.map(([key, value]) => [key, changes[key] ?? value] as const),
});

/** `changes` in place, those the event lacks appended (a variable set for the first time). */
const setOrAdd = (event: EslEvent, changes: Record<string, string>): EslEvent => {
  const changed = set(event, changes);
  const missing = Object.entries(changes).filter(([key]) => eventHeader(event, key) === undefined);
  return { headers: [...changed.headers, ...missing] };
};

export function createEslJoinedCalls(deps: EslJoinedCallsDeps): EslJoinedCalls {
  const rooms = new Map<string, Room>();
  const spies = new Map<string, Spy>();

  const render = (request: JoinRequest, target: EslEvent, allocation: EslCallAllocation, nowUs: number) =>
    renderJoiningLeg(deps.joiningLeg, allocation, { ...request, target, nowUs });

  /** A synchronous `api originate` fires no BACKGROUND_JOB. */
  const withoutJob = (events: readonly RenderedEslEvent[], request: JoinRequest) =>
    request.background ? events : events.filter((event) => event.name !== "BACKGROUND_JOB");

  async function intercept(request: JoinRequest): Promise<JoiningLeg | undefined> {
    let leg: JoiningLeg | undefined;
    const taken = await deps.controlled.takeOver(request.target, () => {
      const target = deps.lastEvent(request.target) ?? { headers: [] };
      // switch_ivr_intercept_session takes over the leg named and hangs up its partner. Named, as
      // FreeSWITCH's own pickup does, by the caller's A-leg: its partner is the phone it rings (the
      // B-leg whose Other-Leg-Unique-ID is the caller). A B-leg named instead is its own ringing leg.
      const outbound = eventHeader(target, "Call-Direction") === "outbound";
      const callerUuid = outbound ? (eventHeader(target, "Other-Leg-Unique-ID") ?? "") : request.target;
      const caller = deps.lastEvent(callerUuid) ?? target;
      const ringing = outbound
        ? request.target
        : (eventHeader(caller, "Other-Leg-Unique-ID") ?? deps.partnersOf(callerUuid)[0] ?? "");
      leg = render(request, target, deps.allocate(deps.joiningLeg), nowMicros());
      const joined = leg.joining.at(-1);
      let atUs = (joined?.atUs ?? nowMicros()) + 100;
      const events: RenderedEslEvent[] = [...withoutJob(leg.joining, request)];
      let callerNow: EslEvent = caller;
      if (eventHeader(caller, "Answer-State") !== "answered") {
        // switch_ivr_intercept_session answers the caller: its CHANNEL_ANSWER as in 19s (still RINGING in it).
        const answeredAt = { "Answer-State": "answered", "Caller-Channel-Answered-Time": String(atUs) };
        const answered = channelEvent(caller, "CHANNEL_ANSWER", [], ANSWER_SOURCE, atUs++);
        events.push({ ...answered, event: set(answered.event, answeredAt) });
        callerNow = set(caller, { ...answeredAt, "Channel-Call-State": "ACTIVE" });
      }
      if (ringing !== "" && ringing !== callerUuid) {
        events.push(...deps.controlled.hangupEvents(ringing, "PICKED_OFF", atUs));
        atUs += 10;
      }
      if (joined !== undefined) events.push(bridgeEvent("CHANNEL_BRIDGE", callerNow, joined.event, "originatee", atUs));
      return { events, legs: [leg.uuid] };
    });
    return taken ? leg : undefined;
  }

  function spy(request: JoinRequest): JoiningLeg {
    const target = deps.lastEvent(request.target) ?? { headers: [] };
    const allocation = deps.allocate(deps.joiningLeg);
    const startedUs = nowMicros();
    const leg = render(request, target, allocation, startedUs);
    const endingOffsetUs = (leg.ending[0]?.atUs ?? startedUs) - (leg.joining[0]?.atUs ?? startedUs);
    spies.set(leg.uuid, {
      leg: leg.uuid,
      target: request.target,
      allocation,
      request,
      targetEvent: target,
      startedUs,
      endingOffsetUs,
    });
    deps.track(playCall(withoutJob([...leg.joining, ...leg.listening], request), deps));
    return leg;
  }

  /** The rest of a spy's leg (19s: its hangup, the spied leg's MEDIA_BUG_STOP), as of now. */
  function endSpy(spyLeg: string): readonly RenderedEslEvent[] {
    const spy = spies.get(spyLeg);
    if (spy === undefined) return [];
    spies.delete(spyLeg);
    const nowUs = nowMicros();
    // Rendered as if the leg had started early enough for its recorded hangup to fall now.
    return render(spy.request, spy.targetEvent, spy.allocation, nowUs - spy.endingOffsetUs).ending;
  }

  // uuid_kill of a spy's leg plays 19s's hangup of it instead of the generic one; a member leaves its room first.
  deps.controlled.onKill((uuid) => {
    if (spies.has(uuid)) return { events: endSpy(uuid), hangup: false };
    const left = leaveRoom(uuid);
    return left === undefined ? undefined : { events: left, hangup: true };
  });

  async function conference(uuid: string, both: boolean, name: string, profile: string): Promise<boolean> {
    return deps.controlled.takeOver(uuid, () => {
      const first = deps.lastEvent(uuid);
      if (first === undefined) return { events: [], legs: [] };
      const partnerUuid = eventHeader(first, "Other-Leg-Unique-ID") ?? "";
      const partner = both && partnerUuid !== "" ? deps.lastEvent(partnerUuid) : undefined;
      let atUs = nowMicros();
      const events: RenderedEslEvent[] = [];
      if (partner !== undefined) {
        const otherType = eventHeader(first, "Other-Type") === "originator" ? "originator" : "originatee";
        events.push(bridgeEvent("CHANNEL_UNBRIDGE", first, partner, otherType, atUs++));
      }
      const domain = (eventHeader(first, "Channel-Presence-ID") ?? "@").split("@")[1] ?? "";
      const room = rooms.get(name) ?? { name, profile, uuid: randomUUID(), domain, members: new Map(), nextMember: 1 };
      rooms.set(name, room);
      for (const leg of partner === undefined ? [first] : [first, partner]) {
        const legUuid = eventHeader(leg, "Unique-ID") ?? "";
        // As 19s's CHANNEL_EXECUTE: the channel data already names the application, then Application*.
        const running = setOrAdd(leg, {
          variable_current_application: "conference",
          variable_current_application_data: `${name}@${profile}`,
        });
        const application = [
          ["Application", "conference"],
          ["Application-Data", `${name}@${profile}`],
          ["Application-UUID", randomUUID()],
        ] as const;
        events.push(channelEvent(running, "CHANNEL_EXECUTE", application, EXECUTE_SOURCE, atUs++));
        const memberId = room.nextMember++;
        room.members.set(legUuid, memberId);
        if (room.members.size === 1) {
          events.push(
            customChannelEvent(
              "conference::maintenance",
              leg,
              conferenceData(room),
              [["Action", "conference-create"]],
              CONFERENCE_SOURCE,
              atUs++,
            ),
          );
        }
        events.push(
          customChannelEvent(
            "conference::maintenance",
            leg,
            conferenceData(room),
            [...memberData(memberId), ["Action", "add-member"]],
            CONFERENCE_SOURCE,
            atUs++,
          ),
        );
      }
      return { events, legs: [] };
    });
  }

  /** A member's del-member (and the room's conference-destroy when it was the last), before its hangup. */
  function leaveRoom(uuid: string): RenderedEslEvent[] | undefined {
    for (const room of rooms.values()) {
      const memberId = room.members.get(uuid);
      const leg = deps.lastEvent(uuid);
      if (memberId === undefined || leg === undefined) continue;
      room.members.delete(uuid);
      const atUs = nowMicros();
      const events = [
        customChannelEvent(
          "conference::maintenance",
          leg,
          conferenceData(room),
          [...memberData(memberId), ["Action", "del-member"]],
          CONFERENCE_DEL_SOURCE,
          atUs,
        ),
      ];
      if (room.members.size === 0) {
        rooms.delete(room.name);
        events.push(
          customChannelEvent(
            "conference::maintenance",
            leg,
            conferenceData(room),
            [["Action", "conference-destroy"]],
            CONFERENCE_DEL_SOURCE,
            atUs + 1,
          ),
        );
      }
      return events;
    }
    return undefined;
  }

  return {
    intercept,
    spy,
    conference,
    observe(event) {
      if (event.name !== "CHANNEL_HANGUP") return;
      const uuid = eventHeader(event.event, "Unique-ID");
      for (const spy of spies.values()) {
        if (spy.target !== uuid) continue;
        // eavesdrop returns when the spied leg goes, and the originated leg, with nothing left to run, hangs up.
        deps.track(new Promise((resolve) => setImmediate(resolve)).then(() => deps.broadcast(endSpy(spy.leg))));
      }
    },
  };
}

/** conference_event_add_data (modeled): the room's headers before the member's channel data. */
function conferenceData(room: Room): Array<readonly [string, string]> {
  return [
    ["Conference-Name", room.name],
    ["Conference-Domain", room.domain],
    ["Conference-Size", String(room.members.size)],
    ["Conference-Ghosts", "0"],
    ["Conference-Profile-Name", room.profile],
    ["Conference-Unique-ID", room.uuid],
  ];
}

/** conference_member_add_event_data (modeled): the member's flags after its channel data. */
function memberData(memberId: number): Array<readonly [string, string]> {
  return [
    ["Floor", memberId === 1 ? "true" : "false"],
    ["Video", "false"],
    ["Hear", "true"],
    ["See", "true"],
    ["Speak", "true"],
    ["Talking", "false"],
    ["Mute-Detect", "false"],
    ["Member-ID", String(memberId)],
    ["Member-Type", "member"],
    ["Member-Ghost", "false"],
    ["Energy-Level", "100"],
    ["Current-Energy", "0"],
  ];
}
