import {
  onHangup,
  onHangupRequest,
  onLocalBridge,
  onNewCallerid,
  onNewchannel,
  onNewstate,
  onVarSet,
} from "./ami-channel-handlers.js";
import { onDialBegin, onDialEnd, onLegacyBridge, onLegacyDial } from "./ami-dial-handlers.js";
import type { AmiMessage } from "./ami-message.js";
import { onAgentCalled, onAgentConnect, onQueueCallerAbandon, onQueueJoin } from "./ami-queue-handlers.js";
import type { AmiEventHandler, CallTrackerContext } from "./ami-tracker-context.js";
import {
  onAttendedTransfer,
  onBlindTransfer,
  onChanSpyStart,
  onHold,
  onMusicOnHoldStart,
  onMusicOnHoldStop,
  onParkedCall,
  onUnhold,
  onUnParkedCall,
} from "./ami-transfer-handlers.js";

export { CALL_ID_VARIABLE } from "./ami-channel-handlers.js";
export type { AmiEventHandler, CallTrackerContext, IgnoreReason } from "./ami-tracker-context.js";

/**
 * AMI event name → the small handler that folds it into its call. Events not listed
 * (Newexten, CEL, RTCP…, most of the traffic) are dropped before any field is read.
 */
export const AMI_EVENT_HANDLERS: ReadonlyMap<string, AmiEventHandler> = new Map([
  // Channels
  ["Newchannel", onNewchannel],
  ["Newstate", onNewstate],
  ["VarSet", onVarSet],
  ["NewCallerid", onNewCallerid],
  ["LocalBridge", onLocalBridge],
  ["HangupRequest", onHangupRequest],
  ["SoftHangupRequest", onHangupRequest],
  ["Hangup", onHangup],
  // Dials: 13+, and 1.8–12
  ["DialBegin", onDialBegin],
  ["DialEnd", onDialEnd],
  ["Dial", onLegacyDial],
  ["Bridge", onLegacyBridge],
  // Queues: 13+ names, then the pre-13 ones
  ["QueueCallerJoin", onQueueJoin],
  ["Join", onQueueJoin],
  ["AgentCalled", onAgentCalled],
  ["AgentConnect", onAgentConnect],
  ["QueueCallerAbandon", onQueueCallerAbandon],
  // Once the call is up
  ["Hold", onHold],
  ["Unhold", onUnhold],
  ["BlindTransfer", onBlindTransfer],
  ["AttendedTransfer", onAttendedTransfer],
  ["ParkedCall", onParkedCall],
  ["UnParkedCall", onUnParkedCall],
  ["ChanSpyStart", onChanSpyStart],
  ["MusicOnHoldStart", onMusicOnHoldStart],
  ["MusicOnHoldStop", onMusicOnHoldStop],
  ["BridgeEnter", onMusicOnHoldStop],
  // Outcomes
  ["OriginateResponse", onOriginateResponse],
  ["Cdr", onCdr],
]);

/**
 * Events Asterisk sends that say nothing the calls need (most of the traffic). Any other
 * name without a handler is counted as unknown: garbage, or a version we do not know.
 */
export const AMI_IGNORED_EVENTS: ReadonlySet<string> = new Set([
  "AGIExec",
  "AsyncAGIStart",
  "AsyncAGIExec",
  "AsyncAGIEnd",
  "AgentComplete",
  "AgentDump",
  "AgentRingNoAnswer",
  "BridgeCreate",
  "BridgeDestroy",
  "BridgeInfoChannel",
  "BridgeInfoComplete",
  "BridgeLeave",
  "BridgeMerge",
  "BridgeVideoSourceUpdate",
  "CEL",
  "ChallengeSent",
  "ChannelTalkingStart",
  "ChannelTalkingStop",
  "ChannelUpdate",
  "ChanSpyStop",
  "ContactStatus",
  "CoreShowChannel",
  "CoreShowChannelsComplete",
  "DAHDIChannel",
  "DeviceStateChange",
  "DialState",
  "DTMFBegin",
  "DTMFEnd",
  "ExtensionStatus",
  "FullyBooted",
  "Leave",
  "LocalOptimizationBegin",
  "LocalOptimizationEnd",
  "Masquerade",
  "MessageWaiting",
  "MixMonitorMute",
  "MixMonitorStart",
  "MixMonitorStop",
  "MusicOnHold",
  "NewAccountCode",
  "NewConnectedLine",
  "Newexten",
  "PeerStatus",
  "QueueCallerLeave",
  "QueueEntry",
  "QueueMember",
  "QueueMemberAdded",
  "QueueMemberPause",
  "QueueMemberPaused",
  "QueueMemberPenalty",
  "QueueMemberRemoved",
  "QueueMemberRinginuse",
  "QueueMemberStatus",
  "QueueParams",
  "QueueStatusComplete",
  "Registry",
  "Reload",
  "Rename",
  "RTCPReceived",
  "RTCPSent",
  "SIPRinging",
  "SuccessfulAuth",
  "Unlink",
  "UserEvent",
]);

/** Asterisk applications an Originate can run that make it a supervisor's call, not a customer's. */
const SUPERVISION_APPLICATIONS = new Set(["ChanSpy", "ExtenSpy"]);

/**
 * The outcome of an async Originate. It can come after the call's last Hangup, and on
 * failure names neither the channel's Uniqueid nor its suffix, so it is matched by name.
 */
function onOriginateResponse(tracker: CallTrackerContext, message: AmiMessage): void {
  const channel = message.get("Channel") ?? "";
  const call =
    tracker.callOfChannel(message.get("Uniqueid")) ??
    (channel.endsWith(";1") ? undefined : tracker.clickToCallOf(channel));
  if (call === undefined || !call.clickToCall) {
    tracker.ignore("unknown_call");
    return;
  }
  if (SUPERVISION_APPLICATIONS.has(message.get("Application") ?? "")) call.supervision = true;
  if (call.toNumber === "") call.toNumber = message.get("Exten") ?? "";
  if (message.response === "Failure") call.originateFailed = true;
}

/** Asterisk's own CDR of one channel: only its disposition is kept, raw. */
function onCdr(tracker: CallTrackerContext, message: AmiMessage): void {
  const uniqueid = message.get("UniqueID") ?? "";
  const call = tracker.callOfChannel(uniqueid);
  if (call === undefined) {
    tracker.ignore("unknown_call");
    return;
  }
  call.asteriskCdrs.push({ uniqueid, disposition: message.get("Disposition") ?? "" });
}
