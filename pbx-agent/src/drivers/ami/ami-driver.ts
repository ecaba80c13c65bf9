import { CommandStatus, type Originate } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { PbxKind } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import type { Presence } from "@callmesh/gen/callmesh/events/v1/presence_pb.js";
import type { Logger } from "@callmesh/platform/logging.js";
import type { Registry } from "@callmesh/platform/metrics.js";
import { createInputSkips } from "../../normalize/input-skips.js";
import type { CallOutput, CommandOutcome, ControlAction, PbxDriver } from "../../ports/pbx-driver.js";
import { type CallStateFiles, openCallStateFiles } from "../call-state-file.js";
import { commandOutcomeOfError } from "../command-outcome.js";
import { createDriverReadiness, type DriverReadiness } from "../driver-readiness.js";
import { createIntervalTicker, type IntervalTicker } from "../interval-ticker.js";
import { createListenerFanOut, type ListenerFanOut } from "../listener-fan-out.js";
import { type CallControlContexts, runCallControl } from "./ami-call-control.js";
import { snapshotCall } from "./ami-call-snapshot.js";
import { type AmiCallTracker, type AmiCallTrackerStats, createAmiCallTracker } from "./ami-call-tracker.js";
import { type AmiConnection, type AmiConnectionStats, createAmiConnection } from "./ami-connection.js";
import { CALL_ID_VARIABLE } from "./ami-event-handlers.js";
import type { AmiMessage } from "./ami-message.js";
import { createNumberPlan, type NumberPlan, type NumberPlanOptions } from "./ami-number-plan.js";
import { extensionStateRefusal, planOriginate } from "./ami-originate.js";
import { type AmiPresenceTracker, createAmiPresenceTracker } from "./ami-presence.js";
import { type AmiSkipReport, createAmiSkipReport } from "./ami-skip-report.js";

export interface AmiDriverOptions extends NumberPlanOptions {
  host: string;
  port: number;
  username: string;
  secret: string;
  /** Put on every CallEvent and Cdr. */
  agentId: string;
  logger: Logger;
  /** Context of the extensions: where ExtensionState looks and the Originate dials from; default "from-internal". */
  originateContext?: string;
  /** Hold: `hold,1` plays music on hold, `wait,1` keeps the other party; default "callmesh-hold". */
  holdContext?: string;
  /** AddToConference: `<room>,1` runs ConfBridge; default the originate context. */
  conferenceContext?: string;
  /** How the agent's (or a supervisor's) phone rings when the command gives no timeout; default 30 s. */
  defaultRingSeconds?: number;
  connectTimeoutMs?: number;
  actionTimeoutMs?: number;
  pingIntervalMs?: number;
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /** See AmiCallTrackerOptions.cdrGraceMs. */
  cdrGraceMs?: number;
  /**
   * Where each call's state is kept while it is in progress (a file per call), so that a restarted
   * agent continues its calls exactly; none: a restart rebuilds them from the PBX alone.
   */
  stateDir?: string;
  /** Where `callmesh_agent_pbx_input_skipped_total{driver="ami"}` is registered. */
  metrics?: Registry;
}

export interface AmiDriver extends PbxDriver {
  readonly stats: {
    readonly connection: Readonly<AmiConnectionStats>;
    readonly tracker: Readonly<AmiCallTrackerStats>;
  };
}

/** How often ended calls are checked for a Cdr whose wait is over. */
const TICK_MS = 500;

/** The PbxDriver for Asterisk/FreePBX over AMI: connection → parser → call tracker → outputs. */
export function createAmiDriver(options: AmiDriverOptions): AmiDriver {
  return new AmiPbxDriver(options);
}

class AmiPbxDriver implements AmiDriver {
  readonly kind = PbxKind.ASTERISK;
  readonly #options: AmiDriverOptions;
  readonly #log: Logger;
  readonly #connection: AmiConnection;
  readonly #tracker: AmiCallTracker;
  readonly #stateFiles: CallStateFiles | undefined;
  readonly #skipReport: AmiSkipReport;
  readonly #outputs: ListenerFanOut<CallOutput>;
  readonly #readiness: DriverReadiness;
  readonly #ticker: IntervalTicker;
  readonly #plan: NumberPlan;
  readonly #presence: AmiPresenceTracker;
  readonly #presenceListeners: ListenerFanOut<Presence>;
  /** Control commands waiting for an event (Park for its ParkedCall). */
  readonly #eventWaiters = new Set<(event: AmiMessage) => boolean>();

  constructor(options: AmiDriverOptions) {
    this.#options = options;
    this.#log = options.logger.child({ driver: "ami" });
    this.#outputs = createListenerFanOut({
      logger: this.#log,
      failureMessage: "output listener failed",
      logFields: (output) => ({ kind: output.kind }),
    });
    this.#connection = createAmiConnection({ ...options, logger: this.#log });
    const stateFiles =
      options.stateDir === undefined ? undefined : openCallStateFiles(options.stateDir, { logger: this.#log });
    this.#stateFiles = stateFiles;
    this.#tracker = createAmiCallTracker({
      agentId: options.agentId,
      trunkContexts: options.trunkContexts,
      extensionPattern: options.extensionPattern,
      cdrGraceMs: options.cdrGraceMs,
      logger: this.#log,
      onOutput: (output) => this.#outputs.emit(output),
      persistence: stateFiles && {
        save: (call) => stateFiles.put(call.linkedid, snapshotCall(call)),
        drop: (call) => stateFiles.remove(call.linkedid),
      },
    });
    if (stateFiles !== undefined) this.#restoreCalls(stateFiles);
    this.#skipReport = createAmiSkipReport(
      createInputSkips({ driver: "ami", logger: this.#log, metrics: options.metrics }),
    );
    this.#readiness = createDriverReadiness({ logger: this.#log, probeVersion: () => this.#probeVersion() });
    this.#ticker = createIntervalTicker(TICK_MS, () => this.#tick());
    this.#plan = createNumberPlan(options);
    this.#presence = createAmiPresenceTracker({ agentId: options.agentId, plan: this.#plan });
    this.#presenceListeners = createListenerFanOut({
      logger: this.#log,
      failureMessage: "presence listener failed",
      logFields: (presence) => ({ extension: presence.extension }),
    });
    this.#connection.onEvent((event) => this.#onEvent(event));
    this.#connection.onConnectionChange((connected) => {
      this.#readiness.connectionChanged(connected);
      if (connected) void this.#recover();
    });
  }

  get connected(): boolean {
    return this.#readiness.ready;
  }

  get pbxVersion(): string {
    return this.#readiness.pbxVersion;
  }

  get stats() {
    return { connection: this.#connection.stats, tracker: this.#tracker.stats };
  }

  start(): void {
    this.#ticker.start();
    this.#connection.start();
  }

  async stop(): Promise<void> {
    this.#ticker.stop();
    await this.#connection.stop();
    // Ended calls should not lose their Cdr to a shutdown; calls still up are restored on restart.
    this.#tracker.flush();
    this.#stateFiles?.flush();
  }

  onOutput(listener: (output: CallOutput) => void): void {
    this.#outputs.add(listener);
  }

  onConnectionChange(listener: (connected: boolean) => void): void {
    this.#readiness.onChange(listener);
  }

  onPresence(listener: (presence: Presence) => void): void {
    this.#presenceListeners.add(listener);
  }

  control(action: ControlAction): Promise<CommandOutcome> {
    const contexts: CallControlContexts = {
      dial: this.#options.originateContext ?? "from-internal",
      hold: this.#options.holdContext ?? "callmesh-hold",
      conference: this.#options.conferenceContext ?? this.#options.originateContext ?? "from-internal",
    };
    return runCallControl(
      {
        tracker: this.#tracker,
        presence: this.#presence,
        plan: this.#plan,
        agentId: this.#options.agentId,
        contexts,
        ringTimeoutMs: (this.#options.defaultRingSeconds ?? 30) * 1000,
        log: this.#log,
        connected: () => this.#connection.connected,
        sendAction: (name, fields) => this.#connection.sendAction(name, fields),
        expectEvent: (match, timeoutMs) => this.#expectEvent(match, timeoutMs),
      },
      action,
    );
  }

  async originate(command: Originate): Promise<CommandOutcome> {
    const log = this.#log.child({ callId: command.callId });
    if (!this.#connection.connected) {
      return { status: CommandStatus.PBX_UNREACHABLE, message: "not connected to the PBX" };
    }
    const context = this.#options.originateContext ?? "from-internal";
    const plan = planOriginate(command, context, this.#options.defaultRingSeconds ?? 30);
    if ("refusal" in plan) return { status: CommandStatus.PBX_REFUSED, message: plan.refusal };
    try {
      const state = await this.#connection.sendAction("ExtensionState", { Exten: command.extension, Context: context });
      const refusal = extensionStateRefusal(state, command.extension);
      if (refusal !== undefined) {
        log.info({ extension: command.extension, status: refusal.status }, refusal.message);
        return refusal;
      }
      // Registered before sending: the call's first events can come before the response.
      this.#tracker.expectOriginate({
        callId: command.callId,
        extension: command.extension,
        context,
        destination: command.destination,
        variables: command.variables,
      });
      const response = await this.#connection.sendAction("Originate", plan.fields);
      if (response.response === "Success") {
        log.info({ extension: command.extension, destination: command.destination }, "originate queued");
        return { status: CommandStatus.OK, message: response.get("Message") ?? "Originate queued" };
      }
      this.#tracker.cancelOriginate(command.callId);
      const message = `Originate refused: ${response.get("Message") ?? response.response ?? ""}`;
      log.warn({ extension: command.extension }, message);
      return { status: CommandStatus.PBX_REFUSED, message };
    } catch (error) {
      // No answer or a lost connection: the Originate may still run, so its expectation stays.
      const outcome = commandOutcomeOfError(error);
      log.warn({ err: error, status: outcome.status }, "originate failed");
      return outcome;
    }
  }

  #onEvent(event: AmiMessage): void {
    this.#tracker.handle(event);
    const presence = this.#presence.handle(event);
    if (presence !== undefined) this.#presenceListeners.emit(presence);
    for (const waiter of this.#eventWaiters) waiter(event);
  }

  #expectEvent(match: (event: AmiMessage) => boolean, timeoutMs: number): Promise<AmiMessage | undefined> {
    return new Promise((resolve) => {
      const waiter = (event: AmiMessage) => {
        if (!match(event)) return false;
        done(event);
        return true;
      };
      const done = (event: AmiMessage | undefined) => {
        clearTimeout(timer);
        this.#eventWaiters.delete(waiter);
        resolve(event);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.#eventWaiters.add(waiter);
    });
  }

  /**
   * On every login: the extensions' states (ExtensionStateList) for presence, and the channels
   * (CoreShowChannels) the tracker reconciles its calls with, so that a call that ended while
   * the agent was away gets its HANGUP and one in progress is tracked on without a second start.
   */
  async #recover(): Promise<void> {
    try {
      const states = await this.#connection.sendListAction("ExtensionStateList", "ExtensionStateListComplete");
      for (const item of states.items) {
        const presence = this.#presence.handle(item);
        if (presence !== undefined) this.#presenceListeners.emit(presence);
      }
    } catch (error) {
      this.#log.warn({ err: error }, "ExtensionStateList failed; presence starts from the next changes");
    }
    try {
      const atUs = Date.now() * 1000;
      const channels = await this.#connection.sendListAction("CoreShowChannels", "CoreShowChannelsComplete");
      if (channels.response.response !== "Success") {
        this.#log.warn({ message: channels.response.get("Message") }, "CoreShowChannels refused; calls not reconciled");
        return;
      }
      const result = this.#tracker.reconcile(channels.items, atUs, await this.#clickToCallIds(channels.items));
      this.#log.info({ channels: channels.items.length, ...result }, "calls reconciled after login");
    } catch (error) {
      this.#log.warn({ err: error }, "CoreShowChannels failed; calls not reconciled");
    }
  }

  /** The CALLMESH_CALL_ID of each click-to-call's Local channel the tracker does not know, by Linkedid. */
  async #clickToCallIds(items: readonly AmiMessage[]): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    for (const item of items) {
      const channel = item.get("Channel") ?? "";
      const linkedid = item.get("Linkedid") ?? "";
      if (!channel.startsWith("Local/") || item.get("Uniqueid") !== linkedid || ids.has(linkedid)) continue;
      if (this.#tracker.liveCalls().some((call) => call.linkedid === linkedid)) continue;
      const answer = await this.#connection.sendAction("Getvar", { Channel: channel, Variable: CALL_ID_VARIABLE });
      const value = answer.get("Value") ?? "";
      if (answer.response === "Success" && value !== "") ids.set(linkedid, value);
    }
    return ids;
  }

  /** The calls the agent tracked before it restarted, from their state files. */
  #restoreCalls(files: CallStateFiles): void {
    const result = this.#tracker.restore(files.loaded);
    for (const { key, reason } of result.unusable) {
      this.#log.warn({ pbxCallId: key, reason }, "call state unusable; that call is rebuilt from the PBX alone");
      files.remove(key);
    }
    if (files.loaded.size > 0 || files.unreadable.length > 0) {
      this.#log.info(
        { live: result.live, ending: result.ending, unusable: result.unusable.length + files.unreadable.length },
        "call states read",
      );
    }
  }

  #tick(): void {
    this.#tracker.tick();
    // Parser counts reach the connection's stats when a session ends; the tracker's at once.
    this.#skipReport.report(this.#connection.stats.parser, this.#tracker.stats);
  }

  /** Asterisk's own version from CoreSettings; the banner's AMI version if that fails. */
  async #probeVersion(): Promise<string> {
    try {
      const settings = await this.#connection.sendAction("CoreSettings");
      const version = settings.get("AsteriskVersion");
      if (settings.response === "Success" && version) return version;
    } catch (error) {
      this.#log.warn({ err: error }, "CoreSettings failed; reporting the AMI banner as the version");
    }
    return this.#connection.banner;
  }
}
