import { randomUUID } from "node:crypto";
import type { Logger } from "@callmesh/platform/logging.js";
import { channelEvent, type EventSource } from "./esl-channel-event.js";
import type { ApiResult } from "./esl-commands.js";
import type { EslControlledCalls } from "./esl-controlled-calls.js";
import { type EslEvent, eventHeader, serializeJsonEvent, serializePlainEvent } from "./esl-event.js";
import type { EslJoinedCalls } from "./esl-joined-calls.js";
import { parseOriginateVariables } from "./esl-originate-request.js";
import type { EslExtensionBehaviour } from "./esl-simulated-calls.js";

/**
 * The call-control api commands of FreeSWITCH 1.10, answered with the texts of its
 * mod_commands.c (checked against v1.10.12): `+OK` / `-ERR No such channel!` (kill_function,
 * transfer_function; fs-real-14n, 21u show the `+OK`), `+OK Message sent` / `-ERR invalid uuid`
 * (uuid_broadcast_function; fs-real-15o), `+OK Success` / `-ERR Operation failed`
 * (uuid_hold_function: switch_ivr_hold_uuid and switch_ivr_unhold_uuid succeed on a uuid no
 * session has, and refuse a leg already held / not held), `+OK <uuid> sent DTMF <digits>.` /
 * `-ERR Cannot locate session!` (uuid_send_dtmf_function), `-ERR No such channel!` (uuid_getvar,
 * uuid_dump), each usage as `-USAGE: <syntax>`.
 *
 * What follows an accepted command: a call played with `playControlledCall` waits for its
 * recorded command (uuid_transfer 14n/21u, uuid_broadcast 15o, originate &eavesdrop 19s) and
 * then plays the rest of its capture. Everything else is modeled and marked so below:
 * uuid_kill's hangup events, uuid_hold's CHANNEL_HOLD/UNHOLD (with fs-real-18r's headers), and
 * (esl-joined-calls.ts) an originate of a phone into &intercept / &eavesdrop of any leg (19s's
 * supervisor leg for that phone) and a uuid_transfer into a conference.
 */
export interface EslCallControlApiDeps {
  readonly controlled: EslControlledCalls;
  readonly joined: EslJoinedCalls;
  readonly channelExists: (uuid: string) => boolean;
  /** The channel's last event, whose `variable_*` headers uuid_getvar reads. */
  readonly lastEvent: (uuid: string) => EslEvent | undefined;
  readonly extensions: Readonly<Record<string, EslExtensionBehaviour>>;
  readonly track: (work: Promise<unknown>) => void;
  readonly logger: Logger;
}

type Job = { readonly jobUuid: string; readonly background: boolean };
type ApiCommand = (argument: string | undefined, job: Job) => ApiResult | Promise<ApiResult>;

const NO_SUCH_CHANNEL = "-ERR No such channel!\n";
/** Where v1.10.12's uuid_dump_function creates its CHANNEL_DATA event. */
const DUMP_SOURCE: EventSource = ["mod_commands.c", "uuid_dump_function", 6468];
const words = (argument: string | undefined) => (argument ?? "").split(" ").filter((word) => word !== "");
const ok = (output: string): ApiResult => ({ output });

/** After the reply is written, as FreeSWITCH's session threads fire their events after the api returned. */
const afterReply = (deps: EslCallControlApiDeps, work: () => Promise<unknown>) =>
  deps.track(new Promise((resolve) => setImmediate(resolve)).then(work));

export function createEslCallControlApi(deps: EslCallControlApiDeps): Readonly<Record<string, ApiCommand>> {
  /** A waiting call's recorded command came: its tail plays, with the API (and BACKGROUND_JOB) it recorded. */
  const proceeded = (
    command: string,
    uuid: string,
    argument: string,
    job: Job,
    output: string,
  ): ApiResult | undefined => {
    const waiting = deps.controlled.awaiting(command, uuid);
    if (waiting === undefined) return undefined;
    waiting.proceed({ ...job, argument });
    // A bgapi's BACKGROUND_JOB is in the tail; an api still gets its api/response.
    return { output, announced: true };
  };

  return {
    uuid_kill(argument) {
      const [uuid] = words(argument);
      if (uuid === undefined) return ok("-USAGE: <uuid> [cause]\n");
      if (!deps.channelExists(uuid)) return ok(NO_SUCH_CHANNEL);
      // Modeled: no capture has a uuid_kill (see EslControlledCalls.kill).
      afterReply(deps, () => deps.controlled.kill(uuid));
      return ok("+OK\n");
    },

    uuid_transfer(argument, job) {
      const args = words(argument);
      const [uuid, ...rest] = args;
      const destination = rest[0] === "-bleg" || rest[0] === "-both" ? rest[1] : rest[0];
      if (uuid === undefined || destination === undefined) {
        return ok("-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n");
      }
      if (!deps.channelExists(uuid)) return ok(NO_SUCH_CHANNEL);
      // Modeled (see EslJoinedCalls.conference): the legs enter mod_conference's room.
      const room = /^conference:([^@\s]+)@(\S+)$/.exec(destination);
      if (room !== null) {
        const [, name = "", profile = ""] = room;
        afterReply(deps, async () => {
          if (!(await deps.joined.conference(uuid, rest[0] === "-both", name, profile))) {
            deps.logger.warn({ destination }, "simulator plays no events for this conference (no held call)");
          }
        });
        return ok("+OK\n");
      }
      const played = proceeded("uuid_transfer", uuid, argument ?? "", job, "+OK\n");
      if (played !== undefined) return played;
      deps.logger.warn({ destination }, "simulator plays no events for this uuid_transfer (no capture of this call)");
      return ok("+OK\n");
    },

    uuid_broadcast(argument, job) {
      const [uuid, path] = words(argument);
      if (uuid === undefined || path === undefined) return ok("-USAGE: <uuid> <path> [aleg|bleg|holdb|both]\n");
      const played = proceeded("uuid_broadcast", uuid, argument ?? "", job, "+OK Message sent\n");
      if (played !== undefined) return played;
      // uuid_broadcast_function: switch_ivr_broadcast fails when it cannot locate the session.
      if (!deps.channelExists(uuid)) return ok("-ERR invalid uuid\n");
      deps.logger.warn({ path }, "simulator plays no events for this uuid_broadcast (no capture of this call)");
      return ok("+OK Message sent\n");
    },

    async uuid_hold(argument) {
      const args = words(argument);
      const mode = args[0]?.toLowerCase();
      const off = mode === "off";
      const toggle = mode === "toggle";
      const uuid = off || toggle ? args[1] : args[0];
      // uuid_hold_function writes its usage, then the status it never set.
      if (args.length === 0) return ok("-USAGE: [off|toggle] <uuid> [<display>]\n-ERR Operation failed\n");
      // switch_ivr_hold_uuid / switch_ivr_unhold_uuid: a uuid no session has (or none) is a success.
      if (uuid === undefined || !deps.channelExists(uuid)) return ok("+OK Success\n");
      // Modeled on fs-real-18r, whose hold came from the phone: the same CHANNEL_HOLD/UNHOLD, fired by uuid_hold.
      // switch_ivr_hold_toggle_uuid holds a leg that is not held, else unholds it.
      const done = toggle
        ? (await deps.controlled.hold(uuid, true)) || (await deps.controlled.hold(uuid, false))
        : await deps.controlled.hold(uuid, !off);
      return ok(done ? "+OK Success\n" : "-ERR Operation failed\n");
    },

    uuid_getvar(argument) {
      const [uuid, name] = words(argument);
      if (uuid === undefined || name === undefined) return ok("-USAGE: <uuid> <var>\n");
      const last = deps.lastEvent(uuid);
      if (last === undefined || !deps.channelExists(uuid)) return ok(NO_SUCH_CHANNEL);
      // The value as is, no newline; an unset variable is `_undef_`.
      return ok(eventHeader(last, `variable_${name}`) || "_undef_");
    },

    uuid_dump(argument) {
      const [uuid, format = "txt"] = words(argument);
      if (uuid === undefined) return ok("-USAGE: <uuid> [format]\n");
      const last = deps.lastEvent(uuid);
      if (last === undefined || !deps.channelExists(uuid)) return ok(NO_SUCH_CHANNEL);
      // uuid_dump_function serializes a CHANNEL_DATA event it creates (stamped as fired from there)
      // with switch_channel_event_set_data; modeled: that data is the channel's last event's, and
      // Event-Sequence stays that event's.
      const { event } = channelEvent(last, "CHANNEL_DATA", [], DUMP_SOURCE);
      if (format.toLowerCase() === "json") return ok(serializeJsonEvent(event));
      // switch_event_serialize: URL-encoded values, except for `plain`, whose values are bracketed.
      if (format.toLowerCase() !== "plain") return ok(serializePlainEvent(event));
      return ok(`${event.headers.map(([key, value]) => `${key}: [${value}]\n`).join("")}\n`);
    },

    uuid_send_dtmf(argument) {
      const [uuid, digits] = words(argument);
      if (uuid === undefined || digits === undefined) return ok("-USAGE: <uuid> <dtmf_data>\n");
      if (!deps.channelExists(uuid)) return ok("-ERR Cannot locate session!\n");
      // The simulated phones hear nothing: the digits are accepted, no DTMF event is fired.
      return ok(`+OK ${uuid} sent DTMF ${digits}.\n`);
    },
  };
}

/** `{…}user/<ext> &eavesdrop(<uuid>)` (also three_way, intercept): an originate that joins another call. */
const JOINING = /^(\{[^}]*\})?user\/([^@/\s]+)(@\S+)? &(eavesdrop|three_way|intercept)\(([^)]*)\)\s*$/;

/**
 * An originate that rings a supervisor or an intercepting phone into another call, or undefined
 * for any other originate. The phone's behaviour decides as for a click-to-call; on the leg of a
 * call waiting for it (fs-real-19s) the capture plays on, otherwise EslJoinedCalls plays it.
 */
export async function joiningOriginate(
  deps: EslCallControlApiDeps,
  argument: string,
  job: Job,
): Promise<ApiResult | undefined> {
  const match = JOINING.exec(argument.trim());
  if (match === null) return undefined;
  const [, braces = "", extension = "", , application = "", target = ""] = match;
  const behaviour = Object.hasOwn(deps.extensions, extension) ? deps.extensions[extension] : undefined;
  // originate_function writes `-ERR <cause>`: mod_dptools user_outgoing_channel's SUBSCRIBER_ABSENT for
  // no such user, mod_sofia's USER_NOT_REGISTERED for no contact, the phone's 486 USER_BUSY.
  if (behaviour === undefined) return ok("-ERR SUBSCRIBER_ABSENT\n");
  if (behaviour === "unregistered") return ok("-ERR USER_NOT_REGISTERED\n");
  if (behaviour === "busy") return ok("-ERR USER_BUSY\n");
  // As fs-real-17q's originate_timeout; modeled: the ring to originate_timeout is not played.
  if (behaviour === "no-answer") return ok("-ERR NO_ANSWER\n");
  const waiting = application === "eavesdrop" ? deps.controlled.awaiting("originate", target) : undefined;
  if (waiting !== undefined) {
    waiting.proceed({ ...job, argument });
    return { output: `+OK ${randomUUID()}\n`, announced: true };
  }
  if (!deps.channelExists(target)) {
    deps.logger.warn({ application, target }, "simulator plays no events for this originate (no such leg)");
    return ok(`+OK ${randomUUID()}\n`);
  }
  const request = {
    extension,
    application,
    target,
    jobUuid: job.jobUuid,
    originateArg: argument,
    background: job.background,
    variables: parseOriginateVariables(braces.slice(1, -1)),
  };
  // Modeled on 19s's supervisor leg (see EslJoinedCalls): the phone rings, answers and joins.
  if (application === "intercept") {
    const leg = await deps.joined.intercept(request);
    if (leg !== undefined) return { output: `+OK ${leg.uuid}\n`, announced: true };
    deps.logger.warn({ extension }, "simulator plays no events for this intercept (no held call)");
    return ok(`+OK ${randomUUID()}\n`);
  }
  const leg = deps.joined.spy(request);
  return { output: `+OK ${leg.uuid}\n`, announced: true };
}
