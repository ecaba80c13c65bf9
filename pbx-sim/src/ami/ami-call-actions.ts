import { randomUUID } from "node:crypto";
import type { Logger } from "@callmesh/platform/logging.js";
import { type ExtensionRegistration, extensionName } from "../shared/extension-directory.js";
import { formatAck, formatError, formatResponse } from "./ami-response.js";
import type { AmiSession, MessageOutcome } from "./ami-session.js";
import type { CallIdentities } from "./call-identities.js";
import type { ChannelTable, LiveChannel } from "./channel-table.js";
import { type ControlledCalls, channelEvent } from "./controlled-calls.js";
import { scanInteger } from "./originate-request.js";
import { actionHeader, actionVariables } from "./received-action.js";
import { conferenceBridge, conferenceEvents, dialRedirectEvents } from "./redirect-model.js";
import type { SupervisorCalls } from "./supervisor-calls.js";

/**
 * The call-control actions of Asterisk 20, answered with its texts (main/manager.c
 * action_hangup, action_redirect, action_blind_transfer, action_atxfer, action_playdtmf;
 * main/features.c action_bridge; res/res_parking/parking_manager.c manager_park). The
 * channel an action names is looked up among the channels the simulator's calls created.
 *
 * What follows an accepted action: a call played with `playControlledCall` waits for its
 * recorded action (BlindTransfer 14n, Atxfer 15o, Park 21u, ChanSpy Originate 19s) and then
 * plays the rest of its capture. For everything no capture shows, the events are modeled
 * on what Asterisk 20 sends, and marked so below: Hangup's SoftHangupRequest/Hangup, the
 * MusicOnHoldStart of a Redirect to the hold location, the MusicOnHoldStop of a Bridge, and a
 * Redirect into the dialplan of a controlled call (redirect-model.ts): to a phone's number it
 * cancels the ringing phones and dials that one (Intercept), to a room it enters ConfBridge.
 * The same action on a call that waits for another one is answered, and plays nothing.
 */
export interface CallActionDeps {
  readonly channels: ChannelTable;
  readonly controlled: ControlledCalls;
  /** The context the agent's hold Redirect goes to (the dialplan of docs/agent.md); modeled as installed. */
  readonly holdContext: string;
  /** Names of the channels a Redirect put on music on hold. */
  readonly musicOnHold: Set<string>;
  /** Where `<extension>,1` Dial()s a phone (Intercept, transfers): the agent's dial context, `from-internal`. */
  readonly dialContext: string;
  /** Where `<room>,1` runs ConfBridge(room) (AddToConference): `from-internal` too; a phone's number there dials it. */
  readonly conferenceContext: string;
  /** The phones of the directory, which a Redirect to their number dials. */
  readonly extensions: Readonly<Record<string, ExtensionRegistration>>;
  readonly identities: CallIdentities;
  /** The supervisors' ChanSpy calls on calls no capture spies on. */
  readonly supervisors: SupervisorCalls;
  readonly logger: Logger;
}

type CallActionHandler = (
  session: AmiSession,
  headers: readonly string[],
  deps: CallActionDeps,
) => Promise<MessageOutcome>;

const replyError = async (session: AmiSession, headers: readonly string[], message: string) => {
  await session.write(formatError(actionHeader(headers, "ActionID"), message));
  return "keep" as const;
};

const replyAck = async (session: AmiSession, headers: readonly string[], message: string) => {
  await session.write(formatAck(actionHeader(headers, "ActionID"), message));
  return "keep" as const;
};

const isUp = (channel: LiveChannel) => channel.lines.some(([key, value]) => key === "ChannelState" && value === "6");

const hangup: CallActionHandler = async (session, headers, deps) => {
  const name = actionHeader(headers, "Channel");
  if (name === "") return replyError(session, headers, "No channel specified");
  const channel = deps.channels.get(name);
  if (channel === undefined) return replyError(session, headers, "No such channel");
  await replyAck(session, headers, "Channel Hungup");
  // A supervisor's channel: the rest of 19s's supervisor call plays instead of the modeled hangup.
  if (deps.supervisors.hangup(channel)) return "keep";
  await deps.controlled.hangup(channel);
  return "keep";
};

/** BlindTransfer and Atxfer: a recorded call waiting for it plays its capture on. */
const transfer =
  (action: "BlindTransfer" | "Atxfer", accepted: string): CallActionHandler =>
  async (session, headers, deps) => {
    const name = actionHeader(headers, "Channel");
    if (name === "") return replyError(session, headers, "No channel specified");
    if (actionHeader(headers, "Exten") === "") return replyError(session, headers, "No extension specified");
    const channel = deps.channels.get(name);
    if (channel === undefined) return replyError(session, headers, "Channel specified does not exist");
    const waiting = deps.controlled.awaiting(action, channel);
    if (waiting !== undefined) {
      await replyAck(session, headers, waiting.message);
      waiting.proceed(actionHeader(headers, "ActionID"));
      return "keep";
    }
    // ast_bridge_transfer_blind: a channel in no bridge (alone, not up) cannot be transferred.
    if (action === "BlindTransfer" && (!isUp(channel) || deps.channels.ofCall(channel.linkedid).length < 2)) {
      return replyError(session, headers, "Transfer invalid");
    }
    deps.logger.warn(
      { session: session.id, action },
      "simulator plays no events for this transfer (no capture of this call)",
    );
    return replyAck(session, headers, accepted);
  };

/**
 * res/parking/parking_manager.c manager_park_bridged and manager_park_unbridged ack with a newline
 * in the text ("Park successful\n"), so the wire has `Message: Park successful\n\r\n\r\n`, as
 * ast-real-21u shows (its parsed Message loses the `\n`, so the text is written here, not replayed).
 */
export const PARK_SUCCESSFUL = "Park successful\n";

const park: CallActionHandler = async (session, headers, deps) => {
  const name = actionHeader(headers, "Channel");
  if (name === "") return replyError(session, headers, "Channel not specified");
  // manager_park checks Timeout before it looks the channel up.
  const timeout = actionHeader(headers, "Timeout");
  if (timeout !== "" && !((scanInteger(timeout) ?? -1) >= 0)) {
    return replyError(session, headers, "Invalid Timeout value.");
  }
  const channel = deps.channels.get(name);
  if (channel === undefined) return replyError(session, headers, `Channel does not exist: ${name}`);
  const waiting = deps.controlled.awaiting("Park", channel);
  if (waiting !== undefined) {
    await replyAck(session, headers, PARK_SUCCESSFUL);
    waiting.proceed(actionHeader(headers, "ActionID"));
    return "keep";
  }
  deps.logger.warn({ session: session.id }, "simulator plays no events for this Park (no capture of this call)");
  return replyAck(session, headers, PARK_SUCCESSFUL);
};

const redirect: CallActionHandler = async (session, headers, deps) => {
  const header = (key: string) => actionHeader(headers, key);
  const name = header("Channel");
  if (name === "") return replyError(session, headers, "Channel not specified");
  if (header("Context") === "") return replyError(session, headers, "Context not specified");
  if (header("Exten") === "") return replyError(session, headers, "Exten not specified");
  if (header("Priority") === "") return replyError(session, headers, "Priority not specified");
  // sscanf %30d, else a label (the recorded dialplan has none); below 1 is invalid.
  if (!((scanInteger(header("Priority")) ?? 0) >= 1)) return replyError(session, headers, "Priority is invalid");
  if (header("ExtraChannel") !== "" && header("ExtraContext") !== "") {
    if (header("ExtraExten") === "") return replyError(session, headers, "ExtraExten not specified");
    if (header("ExtraPriority") === "") return replyError(session, headers, "ExtraPriority not specified");
    if (!((scanInteger(header("ExtraPriority")) ?? 0) >= 1)) {
      return replyError(session, headers, "ExtraPriority is invalid");
    }
  }
  const channel = deps.channels.get(name);
  if (channel === undefined) return replyError(session, headers, `Channel does not exist: ${name}`);
  const extraName = header("ExtraChannel");
  const extra = extraName === "" ? undefined : deps.channels.get(extraName);
  if (extraName !== "" && extra === undefined) {
    return replyError(session, headers, `ExtraChannel does not exist: ${extraName}`);
  }
  await replyAck(session, headers, extra === undefined ? "Redirect successful" : "Dual Redirect successful");
  // Modeled: the documented hold location runs MusicOnHold() (res_musiconhold's MusicOnHoldStart, class default).
  if (header("Context") === deps.holdContext && header("Exten") === "hold") {
    deps.musicOnHold.add(channel.name);
    await deps.controlled.emit([channelEvent("MusicOnHoldStart", channel, [["Class", "default"]])]);
    return "keep";
  }
  const played = redirectElsewhere(channel, extra, header("Context"), header("Exten"), deps);
  if (!played && header("Context") !== deps.holdContext) {
    deps.logger.warn({ session: session.id, exten: header("Exten") }, "simulator plays no events for this Redirect");
  }
  return "keep";
};

/**
 * A Redirect into the dialplan (modeled, see redirect-model.ts): to a directory phone's number in
 * the dial context its Dial() rings and answers that phone (Intercept); to any other extension of
 * the conference context ConfBridge takes the channels into that room (AddToConference).
 */
function redirectElsewhere(
  channel: LiveChannel,
  extra: LiveChannel | undefined,
  context: string,
  exten: string,
  deps: CallActionDeps,
): boolean {
  const bridges = new Map(deps.channels.bridges());
  const others = deps.channels.ofCall(channel.linkedid).filter((other) => other.name !== channel.name);
  if (context === deps.dialContext && Object.hasOwn(deps.extensions, exten) && extra === undefined) {
    return deps.controlled.takeOver(channel, (nowUs) => {
      const { counter, uniqueid } = deps.identities.channel("PJSIP", nowUs);
      const phone = { extension: exten, name: extensionName(exten), counter, uniqueid };
      const bridge = {
        id: randomUUID(),
        type: "basic",
        technology: "simple_bridge",
        creator: "<unknown>",
        name: "<unknown>",
      };
      return dialRedirectEvents({ moved: channel, others, context, phone, bridge, bridges, nowUs });
    });
  }
  // A phone's number is no room: a dual Redirect to one is none of the agent's commands.
  if (context !== deps.conferenceContext || Object.hasOwn(deps.extensions, exten)) return false;
  const moved = extra === undefined ? [channel] : [channel, extra];
  return deps.controlled.takeOver(channel, (nowUs) => {
    const known = deps.controlled.roomBridge(exten);
    const bridge = known ?? conferenceBridge(randomUUID(), exten);
    const members = deps.controlled.roomSize(exten);
    for (const member of moved) deps.controlled.joinedRoom(member.name, exten, bridge);
    return conferenceEvents({ moved, others, context, room: exten, bridge, members, bridges, nowUs });
  });
}

// main/features.c action_bridge: both names required, each looked up by name prefix.
const bridge: CallActionHandler = async (session, headers, deps) => {
  if (actionHeader(headers, "Channel1") === "" || actionHeader(headers, "Channel2") === "") {
    return replyError(session, headers, "Missing channel parameter in request");
  }
  const one = deps.channels.byPrefix(actionHeader(headers, "Channel1"));
  if (one === undefined) {
    return replyError(session, headers, `Channel1 does not exist: ${actionHeader(headers, "Channel1")}`);
  }
  const two = deps.channels.byPrefix(actionHeader(headers, "Channel2"));
  if (two === undefined) {
    return replyError(session, headers, `Channel2 does not exist: ${actionHeader(headers, "Channel2")}`);
  }
  await replyAck(session, headers, "Channels have been bridged");
  // Modeled: a channel on music on hold stops it as it is taken into the new bridge.
  const stopped = [one, two].filter((channel) => deps.musicOnHold.delete(channel.name));
  if (stopped.length > 0)
    await deps.controlled.emit(stopped.map((channel) => channelEvent("MusicOnHoldStop", channel)));
  return "keep";
};

const playDtmf: CallActionHandler = async (session, headers, deps) => {
  const channel = deps.channels.get(actionHeader(headers, "Channel"));
  if (channel === undefined) return replyError(session, headers, "Channel not found");
  if (actionHeader(headers, "Digit") === "") return replyError(session, headers, "No digit specified");
  return replyAck(session, headers, "DTMF successfully queued");
};

/**
 * main/manager.c action_getvar: the variable is required, a named channel must exist (by name or
 * Uniqueid), and the answer is `Variable` and `Value` after `Response: Success`, an unset
 * variable's value empty. Modeled: the values are those the channel's VarSet events set (no
 * dialplan functions, no built-in or global variables: those read empty).
 */
const getvar: CallActionHandler = async (session, headers, deps) => {
  const variable = actionHeader(headers, "Variable");
  if (variable === "") return replyError(session, headers, "No variable specified");
  const name = actionHeader(headers, "Channel");
  const channel = name === "" ? undefined : deps.channels.get(name);
  if (name !== "" && channel === undefined) return replyError(session, headers, "No such channel");
  await session.write(
    formatResponse(
      "Success",
      actionHeader(headers, "ActionID"),
      ["Variable", variable],
      ["Value", channel?.variables.get(variable) ?? ""],
    ),
  );
  return "keep";
};

/**
 * An Originate running an application (Asterisk queues it whatever the application finds).
 * ChanSpy on the device of a call waiting for it plays ast-real-19s on; otherwise nothing is played.
 */
export async function originateApplication(
  session: AmiSession,
  headers: readonly string[],
  deps: CallActionDeps,
): Promise<MessageOutcome> {
  const channelName = actionHeader(headers, "Channel");
  if (channelName === "") return replyError(session, headers, "Channel not specified");
  // main/manager.c action_originate checks Priority and Timeout (when given) before the channel.
  const priority = actionHeader(headers, "Priority");
  if (priority !== "" && scanInteger(priority) === undefined) return replyError(session, headers, "Invalid priority");
  const timeout = actionHeader(headers, "Timeout");
  if (timeout !== "" && scanInteger(timeout) === undefined) return replyError(session, headers, "Invalid timeout");
  if (!channelName.includes("/")) return replyError(session, headers, "Invalid channel");
  const application = actionHeader(headers, "Application");
  const spied = application.toLowerCase() === "chanspy" ? (actionHeader(headers, "Data").split(",")[0] ?? "") : "";
  const channel = spied === "" ? undefined : deps.channels.byPrefix(spied);
  const waiting = channel === undefined ? undefined : deps.controlled.awaiting("Originate", channel);
  if (waiting !== undefined) {
    await replyAck(session, headers, waiting.message);
    waiting.proceed(actionHeader(headers, "ActionID"), actionVariables(headers));
    return "keep";
  }
  await replyAck(session, headers, "Originate successfully queued");
  // Modeled on 19s (see supervisor-calls.ts): the supervisor's Local channel rings and spies.
  const supervisor = /^Local\/([^@]+)@/.exec(channelName)?.[1];
  if (channel !== undefined && supervisor !== undefined) {
    const request = {
      actionId: actionHeader(headers, "ActionID"),
      channel: channelName,
      data: actionHeader(headers, "Data"),
      supervisor,
      variables: actionVariables(headers),
    };
    if (deps.supervisors.start(request, channel)) return "keep";
  }
  deps.logger.warn({ session: session.id, application }, "simulator plays no events for this Originate");
  return "keep";
}

/** The call-control actions by lower-case name. */
export const CALL_ACTION_HANDLERS: ReadonlyMap<string, CallActionHandler> = new Map([
  ["hangup", hangup],
  ["blindtransfer", transfer("BlindTransfer", "Transfer succeeded")],
  ["atxfer", transfer("Atxfer", "Atxfer successfully queued")],
  ["park", park],
  ["redirect", redirect],
  ["bridge", bridge],
  ["playdtmf", playDtmf],
  ["getvar", getvar],
]);
