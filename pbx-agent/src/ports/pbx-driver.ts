import type {
  Command,
  CommandResult,
  CommandStatus,
  Originate,
} from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import type { CallEvent } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import type { PbxKind } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import type { Cdr } from "@callmesh/gen/callmesh/events/v1/cdr_pb.js";
import type { Presence } from "@callmesh/gen/callmesh/events/v1/presence_pb.js";

/** What a driver produces for each finished piece of call truth, in order. */
export type CallOutput = { kind: "event"; event: CallEvent } | { kind: "cdr"; cdr: Cdr };

/** What a command answers besides its status: CommandResult's `detail` (calls, presence, parked_at). */
export type CommandDetail = CommandResult["detail"];

/** The outcome of a command on the PBX. */
export interface CommandOutcome {
  status: CommandStatus;
  /** Details for logs. */
  message: string;
  /** What the command answers (ListCalls, ListPresence, Park); absent for the others. */
  detail?: CommandDetail;
}

/** A call-control command: every Command action but the click-to-call, which has its own method. */
export type ControlAction = Exclude<Command["action"], { case: "originate" } | { case: undefined }>;

/**
 * One connection to one PBX (AMI or ESL): keeps itself connected, normalizes what the PBX
 * says into CallEvents and Cdrs, and runs commands. The agent depends on this port only.
 */
export interface PbxDriver {
  readonly kind: PbxKind;
  /** Whether the driver is logged in to the PBX right now. */
  readonly connected: boolean;
  /** Version the PBX reported at login, "" before that. */
  readonly pbxVersion: string;
  /** Connects, and reconnects with backoff whenever the connection drops, until stop(). */
  start(): void;
  /** Closes the connection and stops reconnecting. */
  stop(): Promise<void>;
  /** Rings `extension`, then dials `destination`; resolves once the PBX accepted or refused. */
  originate(command: Originate): Promise<CommandOutcome>;
  /**
   * Runs a call-control command (hangup, transfer, hold, park, spy…) or answers a snapshot
   * (list_calls, list_presence) on a call the driver tracks. An unknown call id is
   * CALL_NOT_FOUND without a word to the PBX; what the driver cannot do is UNSUPPORTED.
   * Resolves once the PBX accepted or refused; the call's events tell what came of it.
   */
  control(action: ControlAction): Promise<CommandOutcome>;
  /** Called for every CallEvent and Cdr, in the order they happened. */
  onOutput(listener: (output: CallOutput) => void): void;
  /** Called when an extension's presence changes (spooled as SpoolItem.presence). */
  onPresence(listener: (presence: Presence) => void): void;
  /** Called when the connection state changes. */
  onConnectionChange(listener: (connected: boolean) => void): void;
}
