import { createLogger, type Logger } from "@callmesh/platform/logging.js";
import { startCallLoop } from "../shared/call-loop.js";
import { nowMicros } from "../shared/clock.js";
import { defaultExtensions, type ExtensionRegistration } from "../shared/extension-directory.js";
import { createReceivedLog } from "../shared/received-log.js";
import { checkExtensionName, checkPort, checkTimeScale } from "../shared/simulator-options.js";
import { createSimulatorServer } from "../shared/simulator-server.js";
import { handleClientMessage } from "./ami-actions.js";
import { formatAmiBlock } from "./ami-block.js";
import { type AmiSession, createAmiSession } from "./ami-session.js";
import { formatAmiTimestamp } from "./ami-time.js";
import { createCallIdentities } from "./call-identities.js";
import type { RenderedEvent } from "./call-render.js";
import { loadCallTemplates } from "./call-templates.js";
import { createChannelTable } from "./channel-table.js";
import { type ControlledCallOptions, type ControlScenario, createControlledCalls } from "./controlled-calls.js";
import { privilegeMask, wantsEvent } from "./event-mask.js";
import { createExtensionStates } from "./extension-state.js";
import { type ReceivedAction, toReceivedAction } from "./received-action.js";
import { AMI_VERSION } from "./recorded-pbx.js";
import { createSimulatedCalls, type InboundCallOptions, type OutboundCallOptions } from "./simulated-calls.js";
import { createSupervisorCalls } from "./supervisor-calls.js";

export type { ControlledCallOptions, ControlScenario } from "./controlled-calls.js";
export type { ReceivedAction } from "./received-action.js";
export type { InboundCallOptions, OutboundCallOptions } from "./simulated-calls.js";

export interface AmiSimulatorOptions {
  /** Default "127.0.0.1". */
  host?: string;
  /** Default 0 (a random free port). */
  port?: number;
  /** Default "callmesh". */
  username?: string;
  /** Default "callmesh". */
  secret?: string;
  /** Multiplies the recorded gaps between events: 1 real time (default), 0.05 twenty times faster, 0 no delay. */
  timeScale?: number;
  /** Where the agent's Hold redirects the held party (`<context>,hold,1` plays music on hold); default "callmesh-hold". */
  holdContext?: string;
  /** Where a Redirect to a phone's number dials it (the agent's Intercept); default "from-internal". */
  dialContext?: string;
  /** Where a Redirect to any other extension enters that ConfBridge room (AddToConference); default "from-internal". */
  conferenceContext?: string;
  /** extension -> state; default 1001..1012 all "registered". */
  extensions?: Record<string, ExtensionRegistration>;
  /** Asterisk waits 1 s before answering a failed login (default 1000). */
  authFailureDelayMs?: number;
  /** Default: the `pbx-sim` pino logger. */
  logger?: Logger;
}

export interface AmiSimulator {
  readonly port: number;
  /** Every action received, in order, with fields as sent (repeated keys as arrays). */
  readonly actions: ReadonlyArray<ReceivedAction>;
  onAction(listener: (action: ReceivedAction) => void): void;
  /**
   * Plays ast-real-01a (trunk caller -> DID -> extension answers, talk 3 s, caller hangs up). Resolves after the
   * call's last event is written to all clients (or when close() cuts the call short).
   */
  playInboundAnswered(options?: InboundCallOptions): Promise<void>;
  /** Plays ast-real-07g (extension dials out via trunk 'provider', far end 486 busy). */
  playOutboundBusy(options?: OutboundCallOptions): Promise<void>;
  /**
   * Plays an inbound call answered by the extension (1001), which then stays up waiting for the
   * action its capture was recorded with — `blindTransfer` (ast-real-14n), `attendedTransfer`
   * (15o), `park` (21u), `spy` (19s, a ChanSpy Originate on the extension's device) — and plays
   * the rest of that capture when the action comes. Hangup ends it at once; with no action within
   * `maxWaitMs` (60 s) both parties hang up. Resolves when the call is over.
   */
  playControlledCall(scenario: ControlScenario, options?: ControlledCallOptions): Promise<void>;
  /** Plays inbound answered and outbound busy calls in turn every intervalMs until the returned stop() or close(). */
  startCallLoop(intervalMs: number): { stop(): void };
  /**
   * Cuts every client connection, as a network failure or an AMI reload would, and keeps serving:
   * calls play on (their events reach whoever logs in again), clients may reconnect. Resolves with
   * how many were cut, once their sockets closed.
   */
  dropClients(): Promise<number>;
  /** Closes the server and all client connections (a clean way to simulate a PBX going away). */
  close(): Promise<void>;
}

const BANNER = `Asterisk Call Manager/${AMI_VERSION}`;
const AUTH_TIMEOUT_MS = 30_000;

function checkOptions(options: AmiSimulatorOptions) {
  const port = checkPort(options.port);
  const timeScale = checkTimeScale(options.timeScale);
  const authFailureDelayMs = options.authFailureDelayMs ?? 1000;
  if (!Number.isFinite(authFailureDelayMs) || authFailureDelayMs < 0) {
    throw new RangeError(`authFailureDelayMs must be >= 0, got ${authFailureDelayMs}`);
  }
  const extensions = { ...(options.extensions ?? defaultExtensions()) };
  for (const [extension, state] of Object.entries(extensions)) {
    checkExtensionName(extension);
    if (state !== "registered" && state !== "unregistered") {
      throw new RangeError(`extension ${extension}: state must be "registered" or "unregistered"`);
    }
  }
  return {
    host: options.host ?? "127.0.0.1",
    port,
    username: options.username ?? "callmesh",
    secret: options.secret ?? "callmesh",
    timeScale,
    authFailureDelayMs,
    extensions,
  };
}

/** Starts an Asterisk 20 AMI look-alike on TCP that answers actions and plays recorded calls. */
export async function startAmiSimulator(options: AmiSimulatorOptions = {}): Promise<AmiSimulator> {
  const config = checkOptions(options);
  const logger = options.logger ?? createLogger("pbx-sim");
  const templates = await loadCallTemplates();
  const bootedAtMs = Date.now();
  const received = createReceivedLog<ReceivedAction>(logger, "onAction");
  const extensionStates = createExtensionStates(config.extensions);
  const server = createSimulatorServer<AmiSession>({
    protocol: "AMI",
    logger,
    accept: (socket, id) =>
      createAmiSession({
        id,
        socket,
        banner: BANNER,
        logger,
        authTimeoutMs: AUTH_TIMEOUT_MS,
        onMessage: (current, message) => {
          const action = toReceivedAction(message.headers);
          if (action) received.record(action);
          return handleClientMessage(current, message, deps);
        },
      }),
  });
  const { sessions, track } = server;
  const channels = createChannelTable();

  /** Writes events to every logged-in client whose event mask takes them, each client's in order. */
  const broadcast = async (events: readonly RenderedEvent[]) => {
    for (const event of events) channels.observe(event);
    for (const event of events) supervisors.observe(event);
    for (const event of events) {
      if (event.event !== "DeviceStateChange") continue;
      const field = (key: string) => event.lines.find(([name]) => name === key)?.[1] ?? "";
      extensionStates.observeDeviceState(field("Device"), field("State"));
    }
    const masks = events.map((event) => privilegeMask(event.privilege));
    const writes: Promise<void>[] = [];
    for (const session of sessions) {
      if (!session.authenticated || session.closed) continue;
      const text = events.filter((_, index) => wantsEvent(session.eventMask, masks[index] ?? 0)).map((e) => e.text);
      if (text.length > 0) writes.push(session.write(text.join("")));
    }
    await Promise.all(writes);
  };

  const identities = createCallIdentities(Math.floor(bootedAtMs / 1000));
  const calls = createSimulatedCalls({
    templates,
    identities,
    extensions: config.extensions,
    timeScale: config.timeScale,
    signal: server.signal,
    broadcast,
    track,
  });

  const controlled = createControlledCalls({
    templates,
    identities,
    channels,
    timeScale: config.timeScale,
    signal: server.signal,
    broadcast,
    track,
  });

  const supervisors = createSupervisorCalls({
    template: templates.spy,
    headEvents: templates.spy.control?.headEvents ?? 0,
    identities,
    timeScale: config.timeScale,
    signal: server.signal,
    broadcast,
    track,
  });

  // The security event Asterisk raises on every login (captured right after FullyBooted).
  const announceLogin = (session: AmiSession) => {
    const tv = (ms: number) => new Date(ms).toISOString().replace("Z", "+0000");
    const lines: Array<readonly [string, string]> = [
      ["Event", "SuccessfulAuth"],
      ["Privilege", "security,all"],
      ["Timestamp", formatAmiTimestamp(nowMicros())],
      ["EventTV", tv(Date.now())],
      ["Severity", "Informational"],
      ["Service", "AMI"],
      ["EventVersion", "1"],
      ["AccountID", session.username ?? ""],
      ["SessionID", session.sessionId],
      ["LocalAddress", session.localAddress],
      ["RemoteAddress", session.remoteAddress],
      ["UsingPassword", "0"],
      ["SessionTV", tv(session.startedAtMs)],
    ];
    const event = {
      atUs: nowMicros(),
      event: "SuccessfulAuth",
      privilege: "security,all",
      lines,
      text: formatAmiBlock(lines),
    };
    track(broadcast([event]));
  };

  const deps = {
    username: config.username,
    secret: config.secret,
    authFailureDelayMs: config.authFailureDelayMs,
    bootedAtMs,
    extensionStates,
    announceLogin,
    originate: calls.originate,
    calls: {
      channels,
      controlled,
      holdContext: options.holdContext ?? "callmesh-hold",
      musicOnHold: new Set<string>(),
      dialContext: options.dialContext ?? "from-internal",
      conferenceContext: options.conferenceContext ?? "from-internal",
      extensions: config.extensions,
      identities,
      supervisors,
      logger,
    },
    logger,
  };

  const port = await server.listen(config.host, config.port);

  return {
    port,
    actions: received.entries,
    onAction: received.listen,
    playInboundAnswered: (callOptions) => calls.inboundAnswered(callOptions),
    playOutboundBusy: (callOptions) => calls.outboundBusy(callOptions),
    playControlledCall: (scenario, callOptions) => controlled.play(scenario, callOptions),
    startCallLoop: (intervalMs) =>
      startCallLoop({
        intervalMs,
        calls: [() => calls.inboundAnswered(), () => calls.outboundBusy()],
        signal: server.signal,
        track,
        logger,
      }),
    async dropClients() {
      const dropped = [...sessions];
      for (const session of dropped) session.destroy();
      // A session leaves `sessions` when its socket closed.
      for (let waited = 0; dropped.some((session) => sessions.has(session)) && waited < 100; waited++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      logger.info({ dropped: dropped.length }, "AMI clients dropped");
      return dropped.length;
    },
    close: server.close,
  };
}
