import { createServer, type Server, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger, type Logger } from "@callmesh/platform/logging.js";
import { nowMicros } from "../shared/clock.js";
import { defaultExtensions, type ExtensionRegistration } from "../shared/extension-directory.js";
import { handleClientMessage } from "./ami-actions.js";
import { formatAmiBlock } from "./ami-block.js";
import { type AmiSession, createAmiSession } from "./ami-session.js";
import { formatAmiTimestamp } from "./ami-time.js";
import { createCallIdentities } from "./call-identities.js";
import type { RenderedEvent } from "./call-render.js";
import { loadCallTemplates } from "./call-templates.js";
import { privilegeMask, wantsEvent } from "./event-mask.js";
import { createExtensionStates } from "./extension-state.js";
import { type ReceivedAction, toReceivedAction } from "./received-action.js";
import { AMI_VERSION } from "./recorded-pbx.js";
import { createSimulatedCalls, type InboundCallOptions, type OutboundCallOptions } from "./simulated-calls.js";

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
  /** Plays inbound answered and outbound busy calls in turn every intervalMs until the returned stop() or close(). */
  startCallLoop(intervalMs: number): { stop(): void };
  /** Closes the server and all client connections (a clean way to simulate a PBX going away). */
  close(): Promise<void>;
}

const BANNER = `Asterisk Call Manager/${AMI_VERSION}`;
const AUTH_TIMEOUT_MS = 30_000;

function checkOptions(options: AmiSimulatorOptions) {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be 0..65535, got ${port}`);
  const timeScale = options.timeScale ?? 1;
  if (!Number.isFinite(timeScale) || timeScale < 0) throw new RangeError(`timeScale must be >= 0, got ${timeScale}`);
  const authFailureDelayMs = options.authFailureDelayMs ?? 1000;
  if (!Number.isFinite(authFailureDelayMs) || authFailureDelayMs < 0) {
    throw new RangeError(`authFailureDelayMs must be >= 0, got ${authFailureDelayMs}`);
  }
  const extensions = { ...(options.extensions ?? defaultExtensions()) };
  for (const [extension, state] of Object.entries(extensions)) {
    if (!/^[0-9A-Za-z*#+_-]+$/.test(extension)) throw new RangeError(`bad extension ${JSON.stringify(extension)}`);
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

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

/** Starts an Asterisk 20 AMI look-alike on TCP that answers actions and plays recorded calls. */
export async function startAmiSimulator(options: AmiSimulatorOptions = {}): Promise<AmiSimulator> {
  const config = checkOptions(options);
  const logger = options.logger ?? createLogger("pbx-sim");
  const templates = await loadCallTemplates();
  const bootedAtMs = Date.now();
  const closing = new AbortController();
  const sessions = new Set<AmiSession>();
  const sockets = new Set<Socket>();
  const inFlight = new Set<Promise<unknown>>();
  const actions: ReceivedAction[] = [];
  const listeners: Array<(action: ReceivedAction) => void> = [];
  const extensionStates = createExtensionStates(config.extensions);
  let nextSessionId = 1;

  const track = (work: Promise<unknown>) => {
    inFlight.add(work);
    work.then(
      () => inFlight.delete(work),
      () => inFlight.delete(work),
    );
  };

  /** Writes events to every logged-in client whose event mask takes them, each client's in order. */
  const broadcast = async (events: readonly RenderedEvent[]) => {
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

  const calls = createSimulatedCalls({
    templates,
    identities: createCallIdentities(Math.floor(bootedAtMs / 1000)),
    extensions: config.extensions,
    timeScale: config.timeScale,
    signal: closing.signal,
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
    logger,
  };

  const server = createServer((socket) => {
    if (closing.signal.aborted) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    const session = createAmiSession({
      id: nextSessionId++,
      socket,
      banner: BANNER,
      logger,
      authTimeoutMs: AUTH_TIMEOUT_MS,
      onMessage: (current, message) => {
        const action = toReceivedAction(message.headers);
        if (action) {
          actions.push(action);
          for (const listener of listeners) {
            try {
              listener(action);
            } catch (error) {
              logger.error({ err: error }, "onAction listener threw");
            }
          }
        }
        return handleClientMessage(current, message, deps);
      },
      onClose: (closed) => sessions.delete(closed),
    });
    sessions.add(session);
    logger.debug({ session: session.id, remote: session.remoteAddress }, "client connected");
  });

  const port = await listen(server, config.host, config.port);
  logger.info({ host: config.host, port }, "AMI simulator listening");
  let closed: Promise<void> | undefined;

  return {
    port,
    actions,
    onAction(listener) {
      listeners.push(listener);
    },
    playInboundAnswered: (callOptions) => calls.inboundAnswered(callOptions),
    playOutboundBusy: (callOptions) => calls.outboundBusy(callOptions),
    startCallLoop(intervalMs) {
      if (!Number.isFinite(intervalMs) || intervalMs <= 0)
        throw new RangeError(`intervalMs must be > 0, got ${intervalMs}`);
      const stopping = new AbortController();
      const signal = AbortSignal.any([stopping.signal, closing.signal]);
      const loop = async () => {
        for (let turn = 0; !signal.aborted; turn++) {
          const startedAt = performance.now();
          // A call that outlasts the interval delays the next one: one loop call at a time.
          await (turn % 2 === 0 ? calls.inboundAnswered() : calls.outboundBusy()).catch((error: unknown) =>
            logger.error({ err: error }, "looped call failed"),
          );
          const waitMs = startedAt + intervalMs - performance.now();
          if (waitMs > 0) await sleep(waitMs, undefined, { signal }).catch(() => undefined);
        }
      };
      track(loop());
      return { stop: () => stopping.abort() };
    },
    close() {
      closed ??= (async () => {
        closing.abort();
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await Promise.allSettled([...inFlight]);
        await serverClosed;
        logger.info({ port }, "AMI simulator closed");
      })();
      return closed;
    },
  };
}
