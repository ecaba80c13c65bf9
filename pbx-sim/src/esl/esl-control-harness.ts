import assert from "node:assert/strict";
import type { Logger } from "@callmesh/platform/logging.js";
import { frameHeader } from "./esl-capture-file.js";
import { type EslEvent, eventHeader, eventName } from "./esl-event.js";
import { type EslSimulator, startEslSimulator } from "./esl-simulator.js";
import { connectEslTestClient, type EslTestClient } from "./esl-test-client.js";

// What the call-control specs of the ESL simulator share: a simulator with one authenticated
// client listening to every event, and ways to wait for and pick out what it played.

/** Runs `run` with a fresh simulator (playing fast) and a client subscribed to `event plain ALL`. */
export async function withSubscribedSimulator(
  logger: Logger,
  run: (simulator: EslSimulator, client: EslTestClient) => Promise<void>,
): Promise<void> {
  const simulator = await startEslSimulator({ timeScale: 0.02, heartbeatIntervalMs: 0, logger });
  const client = await connectEslTestClient(simulator.port);
  try {
    await client.command("auth ClueCon");
    await client.command("event plain ALL");
    await run(simulator, client);
  } finally {
    client.close();
    await simulator.close();
  }
}

/** The first value `probe` gives, polled every 10 ms; throws naming `what` after `timeoutMs`. */
export async function until<T>(probe: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The api/response body of `api <command>`. */
export async function api(client: EslTestClient, command: string): Promise<string> {
  const frame = await client.command(`api ${command}`);
  assert.equal(frameHeader(frame, "Content-Type"), "api/response");
  return frame.body;
}

/** The events of this name (and, when given, of this leg). */
export const named = (events: EslEvent[], name: string, uuid?: string) =>
  events.filter(
    (event) => eventName(event) === name && (uuid === undefined || eventHeader(event, "Unique-ID") === uuid),
  );
