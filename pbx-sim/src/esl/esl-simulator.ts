import { randomUUID } from "node:crypto";
import { createLogger, type Logger } from "@callmesh/platform/logging.js";
import { startCallLoop } from "../shared/call-loop.js";
import { defaultExtensions } from "../shared/extension-directory.js";
import { createReceivedLog } from "../shared/received-log.js";
import { checkExtensionName, checkPort, checkTimeScale } from "../shared/simulator-options.js";
import { createSimulatorServer, type SimulatorServer } from "../shared/simulator-server.js";
import { createEslApi } from "./esl-api.js";
import type { RenderedEslEvent } from "./esl-call-render.js";
import { loadEslCallTemplates } from "./esl-call-templates.js";
import { type ChannelRow, createChannelTable } from "./esl-channel-table.js";
import { handleEslPacket } from "./esl-commands.js";
import { type EslControlScenario, loadEslControlTemplates } from "./esl-control-templates.js";
import { createEslControlledCalls, type EslControlledCallOptions } from "./esl-controlled-calls.js";
import { type EslEvent, type EslEventFormat, eventFrame } from "./esl-event.js";
import { createEslJoinedCalls } from "./esl-joined-calls.js";
import { createEslSession, type EslSession } from "./esl-session.js";
import {
  createEslSimulatedCalls,
  type EslExtensionBehaviour,
  type EslInboundCallOptions,
  type EslOutboundCallOptions,
} from "./esl-simulated-calls.js";
import { createSystemEvents } from "./esl-system-events.js";
import { DEFAULT_ESL_PASSWORD, DEFAULT_HEARTBEAT_MS } from "./recorded-fs.js";

export type { ChannelRow } from "./esl-channel-table.js";
export type { EslControlScenario } from "./esl-control-templates.js";
export type { EslControlledCallOptions } from "./esl-controlled-calls.js";
export type { EslExtensionBehaviour, EslInboundCallOptions, EslOutboundCallOptions } from "./esl-simulated-calls.js";

export interface EslSimulatorOptions {
  /** Default "127.0.0.1". */
  host?: string;
  /** Default 0 (a random free port). */
  port?: number;
  /** Default "ClueCon", event_socket.conf.xml's. */
  password?: string;
  /** Multiplies the recorded gaps between events: 1 real time (default), 0.05 twenty times faster, 0 no delay. */
  timeScale?: number;
  /** HEARTBEAT every this many ms to listeners that take it (default 20000, FreeSWITCH's; 0 none). */
  heartbeatIntervalMs?: number;
  /** extension → how its phone takes an originate; default 1001..1012 all "answers". */
  extensions?: Record<string, EslExtensionBehaviour>;
  /** FreeSWITCH hangs up on a client that sends nothing for 25 s (default 25000). */
  authTimeoutMs?: number;
  /** Longest client packet kept (default 64 KiB); longer ones are answered `-ERR command not found`. */
  maxPacketBytes?: number;
  /** Default: the `pbx-sim` pino logger. */
  logger?: Logger;
}

/** A command a client sent, as received (first line), with its session. */
export interface ReceivedEslCommand {
  readonly session: number;
  readonly command: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

export interface EslSimulator {
  readonly port: number;
  /** The simulated switch's Core-UUID, on every event. */
  readonly coreUuid: string;
  /** Every command received, in order (oversized packets are not recorded). */
  readonly commands: ReadonlyArray<ReceivedEslCommand>;
  onCommand(listener: (command: ReceivedEslCommand) => void): void;
  /** The channels in progress, as `show channels` reports them. */
  channels(): readonly ChannelRow[];
  /**
   * Plays fs-real-01a (trunk caller → DID → user/1001 answers after 2 s, 3 s talk, caller hangs up).
   * Resolves after the call's last event is written to all clients (or when close() cuts it short).
   */
  playInboundAnswered(options?: EslInboundCallOptions): Promise<void>;
  /**
   * Plays a call that is answered and then waits for a control command: `ringing` (fs-real-01a
   * while 1001 rings; the wait's end answers it), `answered` (fs-real-01a,
   * until uuid_kill or the wait ends and the caller hangs up), `blindTransfer` (14n, its
   * uuid_transfer), `attendedTransfer` (15o, uuid_broadcast att_xfer), `spy` (19s, originate
   * &eavesdrop), `park` (21u, uuid_transfer to 701). The command plays the rest of the capture.
   * Resolves when the call ended.
   */
  playControlledCall(scenario: EslControlScenario, options?: EslControlledCallOptions): Promise<void>;
  /** Plays fs-real-07g (1001 dials out via gateway provider, far end 486 busy). */
  playOutboundBusy(options?: EslOutboundCallOptions): Promise<void>;
  /**
   * Cuts every client's connection (a network drop: no disconnect notice) and refuses new ones
   * for `refuseMs`; the calls play on, unheard.
   */
  dropConnections(refuseMs?: number): void;
  /** Hangs a leg up as uuid_kill does (and its partner), whoever listens. */
  hangUp(uuid: string): Promise<void>;
  /** Plays inbound answered and outbound busy calls in turn every intervalMs until the returned stop() or close(). */
  startCallLoop(intervalMs: number): { stop(): void };
  /** Closes the server and all client connections (a clean way to simulate a switch going away). */
  close(): Promise<void>;
}

const BEHAVIOURS = new Set<EslExtensionBehaviour>(["answers", "no-answer", "busy", "unregistered"]);

function checkOptions(options: EslSimulatorOptions) {
  const port = checkPort(options.port);
  const timeScale = checkTimeScale(options.timeScale);
  const nonNegative = (name: string, value: number) => {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be >= 0, got ${value}`);
    return value;
  };
  const password = options.password ?? DEFAULT_ESL_PASSWORD;
  if (password === "" || /[\r\n]/.test(password)) throw new RangeError("password must be a non-empty single line");
  const extensions =
    options.extensions ??
    Object.fromEntries(Object.keys(defaultExtensions()).map((extension) => [extension, "answers" as const]));
  for (const [extension, behaviour] of Object.entries(extensions)) {
    checkExtensionName(extension);
    if (!BEHAVIOURS.has(behaviour)) throw new RangeError(`extension ${extension}: unknown behaviour ${behaviour}`);
  }
  return {
    host: options.host ?? "127.0.0.1",
    port,
    password,
    timeScale,
    heartbeatIntervalMs: nonNegative("heartbeatIntervalMs", options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS),
    authTimeoutMs: nonNegative("authTimeoutMs", options.authTimeoutMs ?? 25_000),
    maxPacketBytes: nonNegative("maxPacketBytes", options.maxPacketBytes ?? 64 * 1024),
    extensions: { ...extensions },
  };
}

/** Each event serialized once per format, however many listeners take it. */
function frameCache(event: EslEvent) {
  const frames: Partial<Record<EslEventFormat, string>> = {};
  return (format: EslEventFormat) => {
    frames[format] ??= eventFrame(event, format);
    return frames[format];
  };
}

/** Starts a FreeSWITCH 1.10 inbound event socket look-alike that answers commands and plays recorded calls. */
export async function startEslSimulator(options: EslSimulatorOptions = {}): Promise<EslSimulator> {
  const config = checkOptions(options);
  const logger = options.logger ?? createLogger("pbx-sim");
  const [templates, controlTemplates] = await Promise.all([loadEslCallTemplates(), loadEslControlTemplates()]);
  const coreUuid = randomUUID();
  const bootedAt = performance.now();
  const received = createReceivedLog<ReceivedEslCommand>(logger, "onCommand");
  const server: SimulatorServer<EslSession> = createSimulatorServer({
    protocol: "ESL",
    logger,
    accept: (socket, id) => {
      // A refused connection (dropConnections): accepted by the kernel, closed at once.
      if (performance.now() < refusingUntil) setImmediate(() => socket.destroy());
      return createEslSession({
        id,
        socket,
        logger,
        authTimeoutMs: config.authTimeoutMs,
        maxPacketBytes: config.maxPacketBytes,
        onPacket: (current, packet) => {
          if (packet.kind === "command") {
            received.record({ session: current.id, command: packet.command, headers: packet.headers });
          }
          return handleEslPacket(current, packet, commandDeps);
        },
      });
    },
  });
  let refusingUntil = 0;
  const { sessions, track } = server;
  const channels = createChannelTable();
  const systemEvents = createSystemEvents(coreUuid);
  let nextSequence = 1;
  let sessionsSinceStartup = 0;
  let sessionPeak = 0;

  /** Stamps each event's Event-Sequence as it goes out, then writes it to every listener that takes it. */
  const broadcast = async (events: readonly RenderedEslEvent[]) => {
    const perSession = new Map<EslSession, string[]>();
    for (const rendered of events) {
      const event: EslEvent = {
        ...rendered.event,
        headers: rendered.event.headers.map((header) =>
          header[0] === "Event-Sequence" ? ["Event-Sequence", String(nextSequence)] : header,
        ),
      };
      nextSequence++;
      if (rendered.name === "CHANNEL_CREATE") sessionsSinceStartup++;
      channels.observe(event);
      joined.observe(rendered);
      sessionPeak = Math.max(sessionPeak, channels.count());
      const frame = frameCache(event);
      for (const session of sessions) {
        if (!session.authenticated || session.closed || !session.subscription.wants(event)) continue;
        const texts = perSession.get(session) ?? [];
        texts.push(frame(session.subscription.format));
        perSession.set(session, texts);
      }
    }
    await Promise.all([...perSession].map(([session, texts]) => session.write(texts.join(""))));
  };

  const calls = createEslSimulatedCalls({
    templates,
    coreUuid,
    extensions: config.extensions,
    timeScale: config.timeScale,
    signal: server.signal,
    broadcast,
    track,
  });
  const channelExists = (uuid: string) => channels.rows().some((row) => row.uuid === uuid);
  const controlled = createEslControlledCalls({
    templates: controlTemplates,
    channels,
    allocate: (template) => calls.allocate(template),
    timeScale: config.timeScale,
    signal: server.signal,
    broadcast,
    track,
  });
  const joined = createEslJoinedCalls({
    controlled,
    lastEvent: channels.lastEvent,
    partnersOf: channels.partnersOf,
    joiningLeg: templates.joiningLeg,
    allocate: (template) => calls.allocate(template),
    timeScale: config.timeScale,
    signal: server.signal,
    broadcast,
    track,
    logger,
  });
  const runApi = createEslApi({
    channels,
    calls,
    control: {
      controlled,
      joined,
      channelExists,
      lastEvent: channels.lastEvent,
      extensions: config.extensions,
      track,
      logger,
    },
  });
  const commandDeps = {
    password: config.password,
    runApi,
    channelExists,
    systemEvents,
    broadcast,
    track,
    logger,
  };

  const heartbeat =
    config.heartbeatIntervalMs > 0
      ? setInterval(() => {
          const event = systemEvents.heartbeat({
            uptimeMs: performance.now() - bootedAt,
            sessionCount: channels.count(),
            sessionsSinceStartup,
            sessionPeak,
          });
          track(broadcast([event]));
        }, config.heartbeatIntervalMs)
      : undefined;
  heartbeat?.unref();
  server.signal.addEventListener("abort", () => clearInterval(heartbeat), { once: true });

  const port = await server.listen(config.host, config.port);

  return {
    port,
    coreUuid,
    commands: received.entries,
    onCommand: received.listen,
    channels: () => channels.rows(),
    playInboundAnswered: (callOptions) => calls.inboundAnswered(callOptions),
    playOutboundBusy: (callOptions) => calls.outboundBusy(callOptions),
    playControlledCall: (scenario, callOptions) => controlled.play(scenario, callOptions),
    dropConnections(refuseMs = 0) {
      refusingUntil = performance.now() + refuseMs;
      for (const session of sessions) session.destroy();
    },
    hangUp: (uuid) => controlled.kill(uuid),
    startCallLoop: (intervalMs) =>
      startCallLoop({
        intervalMs,
        calls: [() => calls.inboundAnswered(), () => calls.outboundBusy()],
        signal: server.signal,
        track,
        logger,
      }),
    close: server.close,
  };
}
