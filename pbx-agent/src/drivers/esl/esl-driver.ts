import { randomUUID } from "node:crypto";
import { CommandStatus, type Originate } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { PbxKind } from "@callmesh/gen/callmesh/events/v1/call_pb.js";
import type { Presence } from "@callmesh/gen/callmesh/events/v1/presence_pb.js";
import type { Logger } from "@callmesh/platform/logging.js";
import type { Registry } from "@callmesh/platform/metrics.js";
import type { CallOutput, CommandOutcome, ControlAction, PbxDriver } from "../../ports/pbx-driver.js";
import { type CallStateFiles, openCallStateFiles } from "../call-state-file.js";
import { commandOutcomeOfError } from "../command-outcome.js";
import { createDriverReadiness, type DriverReadiness } from "../driver-readiness.js";
import { createIntervalTicker, type IntervalTicker } from "../interval-ticker.js";
import { createListenerFanOut, type ListenerFanOut } from "../listener-fan-out.js";
import { type EslControlDialplan, runEslCallControl } from "./esl-call-control.js";
import { answeredUsOfDump, type LiveChannel, parseShowChannels } from "./esl-call-recovery.js";
import { snapshotEslCall } from "./esl-call-snapshot.js";
import { createEslCallTracker, type EslCallTracker, type EslCallTrackerStats } from "./esl-call-tracker.js";
import { createEslConnection, type EslConnection, type EslConnectionStats } from "./esl-connection.js";
import type { EslEvent } from "./esl-event.js";
import { CALL_ID_VARIABLE } from "./esl-event-handlers.js";
import type { EslNumberPlanOptions } from "./esl-number-plan.js";
import { buildOriginateCommand, outcomeOfOriginateJob } from "./esl-originate.js";
import { createEslPresenceTracker, type EslPresenceTracker, PRESENCE_EVENTS } from "./esl-presence.js";

export interface EslDriverOptions extends EslNumberPlanOptions {
  host: string;
  /** Default 8021. */
  port?: number;
  password: string;
  /** Put on every CallEvent and Cdr. */
  agentId: string;
  logger: Logger;
  metrics?: Registry;
  /** `event plain ALL` (default) or `event json ALL`. */
  eventFormat?: "plain" | "json";
  /** Dialplan context the destination of a click-to-call runs in; default "default". */
  originateContext?: string;
  /** How long the agent's phone rings when the command gives no timeout; default 30 s. */
  defaultRingSeconds?: number;
  /**
   * How long originate() waits for a BACKGROUND_JOB verdict before answering OK
   * ("queued, ringing"); a quick `-ERR USER_NOT_REGISTERED` comes within it. Default 1.5 s.
   */
  originateVerdictMs?: number;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  pingIntervalMs?: number;
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /** See EslCallTrackerOptions.hangupGraceMs. */
  hangupGraceMs?: number;
  /**
   * Where each call in progress is kept (a file per call, drivers/call-state-file.ts) so that a
   * restarted agent carries it on exactly: same id, next sequence, whole Cdr. Unset: a restart
   * rebuilds calls from `show channels` alone (see esl-call-recovery.ts).
   */
  stateDir?: string;
  /** Where call control sends legs; defaults: context "default", park slots 701–709, conference profile "default". */
  controlDialplan?: Partial<EslControlDialplan>;
}

const DEFAULT_PARK_SLOTS = ["701", "702", "703", "704", "705", "706", "707", "708", "709"];

export interface EslDriver extends PbxDriver {
  readonly stats: {
    readonly connection: Readonly<EslConnectionStats>;
    readonly tracker: Readonly<EslCallTrackerStats>;
  };
}

/** How often calls that hung up without HANGUP_COMPLETE and stale originates are checked. */
const TICK_MS = 1000;

/** The PbxDriver for FreeSWITCH over the inbound event socket: connection → normalizer → call tracker → outputs. */
export function createEslDriver(options: EslDriverOptions): EslDriver {
  return new EslPbxDriver(options);
}

class EslPbxDriver implements EslDriver {
  readonly kind = PbxKind.FREESWITCH;
  readonly #options: EslDriverOptions;
  readonly #log: Logger;
  readonly #tracker: EslCallTracker;
  readonly #connection: EslConnection;
  readonly #outputs: ListenerFanOut<CallOutput>;
  readonly #presence: EslPresenceTracker;
  readonly #presenceListeners: ListenerFanOut<Presence>;
  readonly #readiness: DriverReadiness;
  readonly #ticker: IntervalTicker;
  readonly #stateFiles: CallStateFiles | undefined;
  /** Logins so far: the first one's recovery is silent (the process before reported those calls). */
  #logins = 0;
  /** originate() calls waiting for their BACKGROUND_JOB, by Job-UUID. */
  readonly #jobs = new Map<string, (event: EslEvent) => void>();

  constructor(options: EslDriverOptions) {
    this.#options = options;
    this.#log = options.logger.child({ driver: "esl" });
    this.#outputs = createListenerFanOut({
      logger: this.#log,
      failureMessage: "output listener failed",
      logFields: (output) => ({ kind: output.kind }),
    });
    const stateFiles =
      options.stateDir === undefined ? undefined : openCallStateFiles(options.stateDir, { logger: this.#log });
    this.#stateFiles = stateFiles;
    this.#tracker = createEslCallTracker({
      ...options,
      logger: this.#log,
      onOutput: (output) => this.#outputs.emit(output),
      ...(stateFiles === undefined
        ? {}
        : {
            persistence: {
              save: (call) => stateFiles.put(call.pbxCallId, snapshotEslCall(call)),
              drop: (call) => stateFiles.remove(call.pbxCallId),
            },
          }),
    });
    if (stateFiles !== undefined) {
      const { restored, unusable } = this.#tracker.restore(stateFiles.loaded);
      for (const { key, reason } of unusable) {
        this.#log.warn({ pbxCallId: key, reason }, "call state unusable; that call is rebuilt from FreeSWITCH alone");
        stateFiles.remove(key);
      }
      if (restored > 0) this.#log.info({ restored }, "call states read");
    }
    this.#presence = createEslPresenceTracker({ agentId: options.agentId, plan: this.#tracker.plan });
    this.#presenceListeners = createListenerFanOut({
      logger: this.#log,
      failureMessage: "presence listener failed",
      logFields: (presence) => ({ extension: presence.extension }),
    });
    this.#connection = createEslConnection({
      ...options,
      port: options.port ?? 8021,
      logger: this.#log,
      tracker: this.#tracker,
      alsoWants: PRESENCE_EVENTS,
    });
    this.#connection.onEvent((event) => {
      const presence = this.#presence.handle(event);
      if (presence !== undefined) this.#presenceListeners.emit(presence);
    });
    this.#readiness = createDriverReadiness({ logger: this.#log, probeVersion: () => this.#probeVersion() });
    this.#ticker = createIntervalTicker(TICK_MS, () => this.#tracker.tick());
    this.#connection.onBackgroundJob((event) => this.#jobs.get(event.get("Job-UUID") ?? "")?.(event));
    this.#connection.onConnectionChange((connected) => {
      const ready = this.#readiness.connectionChanged(connected);
      if (connected) void this.#recover(this.#logins++ === 0);
      return ready;
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
    this.#stateFiles?.flush();
  }

  onOutput(listener: (output: CallOutput) => void): void {
    this.#outputs.add(listener);
  }

  onConnectionChange(listener: (connected: boolean) => void): void {
    this.#readiness.onChange(listener);
  }

  /** Runs a call-control command through `api`/`bgapi` on the legs the tracker knows (esl-call-control.ts). */
  control(action: ControlAction): Promise<CommandOutcome> {
    const options = this.#options;
    return runEslCallControl(
      {
        tracker: this.#tracker,
        plan: this.#tracker.plan,
        agentId: options.agentId,
        dialplan: {
          context: options.controlDialplan?.context ?? options.originateContext ?? "default",
          parkSlots: options.controlDialplan?.parkSlots ?? DEFAULT_PARK_SLOTS,
          conferenceProfile: options.controlDialplan?.conferenceProfile ?? "default",
        },
        ringSeconds: options.defaultRingSeconds ?? 30,
        verdictMs: options.originateVerdictMs ?? 1500,
        log: this.#log.child({ command: action.case, callId: "callId" in action.value ? action.value.callId : "" }),
        connected: () => this.#connection.connected,
        api: async (command) => (await this.#connection.send(`api ${command}`)).text,
        bgapi: (command, verdictMs) => this.#bgapi(command, verdictMs),
        presence: () => this.#presence.list(),
      },
      action,
    );
  }

  /** `bgapi` with our own Job-UUID: its command/reply, and its BACKGROUND_JOB's body if it comes within `verdictMs`. */
  async #bgapi(command: string, verdictMs: number): Promise<{ reply: string; job: string | undefined }> {
    const jobUuid = randomUUID();
    const job = new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), verdictMs);
      this.#jobs.set(jobUuid, (event) => {
        clearTimeout(timer);
        resolve(event.body);
      });
    });
    try {
      const reply = await this.#connection.send(`bgapi ${command}`, { headers: { "Job-UUID": jobUuid } });
      if (!reply.text.startsWith("+OK")) return { reply: reply.text, job: undefined };
      return { reply: reply.text, job: await job };
    } finally {
      this.#jobs.delete(jobUuid);
    }
  }

  onPresence(listener: (presence: Presence) => void): void {
    this.#presenceListeners.add(listener);
  }

  async originate(command: Originate): Promise<CommandOutcome> {
    const log = this.#log.child({ callId: command.callId });
    if (!this.#connection.connected)
      return { status: CommandStatus.PBX_UNREACHABLE, message: "not connected to the PBX" };
    const plan = buildOriginateCommand(
      command,
      this.#options.originateContext ?? "default",
      this.#options.defaultRingSeconds ?? 30,
    );
    if ("refusal" in plan) return { status: CommandStatus.PBX_REFUSED, message: plan.refusal };
    const jobUuid = randomUUID();
    // Registered before sending: the call's first events can come before the reply.
    this.#tracker.expectOriginate({
      callId: command.callId,
      extension: command.extension,
      destination: command.destination,
      variables: command.variables,
      jobUuid,
    });
    const verdict = new Promise<EslEvent | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), this.#options.originateVerdictMs ?? 1500);
      this.#jobs.set(jobUuid, (event) => {
        clearTimeout(timer);
        resolve(event);
      });
    });
    try {
      const reply = await this.#connection.send(`bgapi ${plan.command}`, { headers: { "Job-UUID": jobUuid } });
      if (!reply.text.startsWith("+OK")) {
        this.#tracker.cancelOriginate(command.callId);
        const message = `originate refused: ${reply.text.trim()}`;
        log.warn({ extension: command.extension }, message);
        return { status: CommandStatus.PBX_REFUSED, message };
      }
      const job = await verdict;
      if (job === undefined) {
        log.info({ extension: command.extension, destination: command.destination }, "originate queued");
        return { status: CommandStatus.OK, message: "originate queued, the extension is ringing" };
      }
      const outcome = outcomeOfOriginateJob(job.body);
      // A refused originate made no call; one that rang made a call that already took its expectation.
      if (outcome.status !== CommandStatus.OK) this.#tracker.cancelOriginate(command.callId);
      log.info({ extension: command.extension, status: outcome.status }, outcome.message);
      return outcome;
    } catch (error) {
      // No reply or a lost connection: the originate may still run, so its expectation stays.
      const outcome = commandOutcomeOfError(error);
      log.warn({ err: error, status: outcome.status }, "originate failed");
      return outcome;
    } finally {
      this.#jobs.delete(jobUuid);
    }
  }

  /**
   * On every login: `api show channels as json`, and for each channel `uuid_dump <uuid> json`
   * (its answer time, a click-to-call's or a Spy's callmesh_call_id, what it runs: a supervisor's eavesdrop), then the tracker merges that with
   * what it knows (esl-call-recovery.ts). The events that came meanwhile are handled after.
   */
  async #recover(silent: boolean): Promise<void> {
    let channels: LiveChannel[] | undefined;
    try {
      const rows = parseShowChannels((await this.#connection.send("api show channels as json")).text);
      channels = [];
      for (const row of rows) {
        // answer_uepoch is set only at hangup: the answer time is in the channel's data.
        const dump = await this.#dump(row.uuid);
        const callId = dump?.[`variable_${CALL_ID_VARIABLE}`];
        const application = dump?.variable_current_application;
        channels.push({
          ...row,
          answeredUs: answeredUsOfDump(dump),
          callId: callId || undefined,
          application: application
            ? { name: application, data: dump?.variable_current_application_data ?? "" }
            : undefined,
        });
      }
    } catch (error) {
      this.#log.warn({ err: error }, "show channels failed; calls in progress not recovered");
      channels = undefined;
    } finally {
      const outcome = this.#tracker.recover(channels, silent);
      // Calls rebuilt now are kept from now on, as those seen from the start.
      for (const call of this.#tracker.liveCalls()) this.#stateFiles?.put(call.pbxCallId, snapshotEslCall(call));
      this.#log.info({ ...outcome, channels: channels?.length, silent }, "calls in progress recovered");
    }
  }

  /** `uuid_dump <uuid> json`: the channel's data; undefined when the channel is gone. */
  async #dump(uuid: string): Promise<Record<string, string> | undefined> {
    const text = (await this.#connection.send(`api uuid_dump ${uuid} json`)).text.trim();
    if (!text.startsWith("{")) return undefined;
    return JSON.parse(text) as Record<string, string>;
  }

  /** FreeSWITCH's `api version`; no version if that fails. */
  async #probeVersion(): Promise<string> {
    try {
      const reply = await this.#connection.send("api version");
      return reply.text.trim();
    } catch (error) {
      this.#log.warn({ err: error }, "api version failed; reporting no version");
      return "";
    }
  }
}
