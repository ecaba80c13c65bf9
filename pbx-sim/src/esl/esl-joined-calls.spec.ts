import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "@callmesh/platform/logging.js";
import { frameHeader } from "./esl-capture-file.js";
import { type EslEvent, eventHeader, eventName } from "./esl-event.js";
import { type EslSimulator, startEslSimulator } from "./esl-simulator.js";
import { connectEslTestClient, type EslTestClient } from "./esl-test-client.js";

const TEST = { timeout: 10_000 };
const logger = createLogger("pbx-sim-test", "silent");

async function withSimulator(run: (simulator: EslSimulator, client: EslTestClient) => Promise<void>) {
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

async function until<T>(probe: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function api(client: EslTestClient, command: string): Promise<string> {
  const frame = await client.command(`api ${command}`);
  assert.equal(frameHeader(frame, "Content-Type"), "api/response");
  return frame.body;
}

const legOf = (simulator: EslSimulator, prefix: string, callstate?: string) =>
  simulator
    .channels()
    .find((row) => row.name.startsWith(prefix) && (callstate === undefined || row.callstate === callstate));

const named = (events: EslEvent[], name: string, uuid?: string) =>
  events.filter(
    (event) => eventName(event) === name && (uuid === undefined || eventHeader(event, "Unique-ID") === uuid),
  );
const header = (event: EslEvent | undefined, name: string) => eventHeader(event ?? { headers: [] }, name);

describe("ESL simulator: what intercept, conference and eavesdrop do on calls no capture shows", () => {
  it(
    "uuid_transfer -both into a conference: add-member for both legs, del-member as they are killed",
    TEST,
    async () => {
      await withSimulator(async (simulator, client) => {
        const played = simulator.playControlledCall("answered", { maxWaitMs: 8000 });
        const agent = await until(() => legOf(simulator, "sofia/internal/1001@", "ACTIVE")?.uuid, "1001 answered");
        const caller = legOf(simulator, "sofia/external/")?.uuid ?? "";
        assert.equal(
          await api(client, `uuid_transfer ${caller} -both conference:sales-weekly@default inline`),
          "+OK\n",
        );
        await until(
          () => named(client.events(), "CUSTOM").filter((event) => header(event, "Action") === "add-member")[1],
          "both members added",
        );
        const custom = named(client.events(), "CUSTOM");
        assert.deepEqual(
          custom.map((event) => [header(event, "Action"), header(event, "Unique-ID"), header(event, "Member-ID")]),
          [
            ["conference-create", caller, undefined],
            ["add-member", caller, "1"],
            ["add-member", agent, "2"],
          ],
        );
        const added = custom[1];
        // fs-real-12l's CUSTOM order: Event-Subclass first, then Event-Name.
        assert.deepEqual(added?.headers.slice(0, 2), [
          ["Event-Subclass", "conference::maintenance"],
          ["Event-Name", "CUSTOM"],
        ]);
        assert.equal(header(added, "Conference-Name"), "sales-weekly");
        assert.equal(header(added, "Conference-Profile-Name"), "default");
        assert.equal(named(client.events(), "CHANNEL_UNBRIDGE", caller).length, 1);
        assert.equal(named(client.events(), "CHANNEL_HANGUP").length, 0, "nobody hung up");
        assert.equal(legOf(simulator, "sofia/internal/1001@")?.application, "conference");

        assert.equal(await api(client, `uuid_kill ${caller}`), "+OK\n");
        await played;
        const actions = named(client.events(), "CUSTOM").map((event) => header(event, "Action"));
        assert.deepEqual(actions.slice(3), ["del-member", "del-member", "conference-destroy"]);
        assert.deepEqual(simulator.channels(), []);
      });
    },
  );
});
