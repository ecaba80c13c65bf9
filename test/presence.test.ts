// Presence (REQUIREMENTS E6) through the gateway: ListPresence asks the tenant's agents,
// WatchPresence streams the current states and then every change the agents report, over
// Connect JSON on HTTP/1.1 as a browser or curl would use it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { CommandStatus } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { PresenceService } from "@callmesh/gen/callmesh/crm/v1/presence_service_pb.js";
import { PresenceState } from "@callmesh/gen/callmesh/events/v1/presence_pb.js";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { reasonOf } from "./support/connect-json.js";
import { connectFakeAgent } from "./support/fake-agent.js";
import { postJson, startTestServer, type TestServer, testCredentials } from "./support/server.js";

const listPresence = "callmesh.crm.v1.PresenceService/ListPresence";
type FakeAgent = ReturnType<typeof connectFakeAgent>;

const entry = (extension: string, state: PresenceState, atMs = Date.now()) => ({
  extension,
  state,
  tenantId: "claimed-by-agent",
  device: `PJSIP/${extension}`,
  changedAt: timestampFromMs(atMs),
});

/** Answers the agent's next command, which must be list_presence, with these entries. */
async function answerPresence(agent: FakeAgent, entries: ReturnType<typeof entry>[]) {
  const command = await agent.next("command");
  assert.equal(command.action.case, "listPresence");
  agent.send({
    case: "commandResult",
    value: { commandId: command.commandId, status: CommandStatus.OK, detail: { case: "presence", value: { entries } } },
  });
}

function presenceClient(server: TestServer, apiKey = testCredentials.apiKey) {
  const transport = createConnectTransport({
    baseUrl: server.url,
    httpVersion: "1.1",
    interceptors: [
      (next) => (req) => {
        req.header.set("authorization", `Bearer ${apiKey}`);
        return next(req);
      },
    ],
  });
  return createClient(PresenceService, transport);
}

describe("presence", () => {
  let server: TestServer;
  let sequence = 0n;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it("lists the presence the agent reports, stamped with tenant and agent, filtered by extension", async () => {
    const agent = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId);
    try {
      await agent.next("welcome");
      const reply = postJson(server.url, listPresence, { extensions: ["1002", "1001"] });
      await answerPresence(agent, [
        entry("1002", PresenceState.IN_USE),
        entry("1003", PresenceState.IDLE),
        entry("1001", PresenceState.IDLE),
      ]);
      const { json } = await reply;
      const entries = json.entries as Record<string, unknown>[];
      assert.deepEqual(
        entries.map((e) => [e.extension, e.state, e.tenantId, e.agentId]),
        [
          ["1001", "PRESENCE_STATE_IDLE", "dev", testCredentials.agentId],
          ["1002", "PRESENCE_STATE_IN_USE", "dev", testCredentials.agentId],
        ],
      );
      const bad = await postJson(server.url, listPresence, { extensions: ["10a"] });
      assert.equal(bad.json.code, "invalid_argument");
      assert.match(String(bad.json.message), /extensions/);
      await assert.rejects(
        (async () => {
          for await (const _ of presenceClient(server).watchPresence({ extensions: ["10a"] }));
        })(),
        (error: unknown) =>
          error instanceof ConnectError && error.code === Code.InvalidArgument && /extensions/.test(error.message),
      );
    } finally {
      agent.close();
    }
  });

  it("lists what the agents that answered report, and names those that did not", async () => {
    const second = { agentId: "test-pbx-2", agentToken: "cma_test_token_2" };
    await server.directory.addAgent(testCredentials.tenantId, second.agentId, second.agentToken);
    const first = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId);
    const silent = connectFakeAgent(server.url, second.agentToken, second.agentId);
    try {
      await first.next("welcome");
      await silent.next("welcome");
      const reply = postJson(server.url, listPresence, {});
      await answerPresence(first, [entry("1001", PresenceState.IDLE)]);
      // The second agent takes the command and goes away before it answers.
      await silent.next("command");
      silent.close();
      const { status, json } = await reply;
      assert.equal(status, 200, JSON.stringify(json));
      assert.deepEqual(
        (json.entries as Record<string, unknown>[]).map((e) => [e.extension, e.agentId]),
        [["1001", testCredentials.agentId]],
      );
      assert.deepEqual(json.unansweredAgents, [{ agentId: second.agentId, reason: "agent_offline" }]);
    } finally {
      first.close();
      silent.close();
    }
  });

  it("refuses to list or watch with no agent online", async () => {
    const { json } = await postJson(server.url, listPresence, {});
    assert.equal(json.code, "unavailable");
    assert.equal(reasonOf(json), "agent_offline");
    const stream = presenceClient(server).watchPresence({});
    await assert.rejects(
      (async () => {
        for await (const _ of stream);
      })(),
      (error: unknown) => error instanceof ConnectError && error.code === Code.Unavailable,
    );
  });

  it("streams the current states, then every change of the watched extensions, until the client goes away", async () => {
    const agent = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId);
    const gone = new AbortController();
    try {
      await agent.next("welcome");
      const stream = presenceClient(server).watchPresence({ extensions: ["1001", "1002"] }, { signal: gone.signal });
      const seen: [string, PresenceState][] = [];
      const reading = (async () => {
        try {
          for await (const { presence } of stream) seen.push([presence?.extension ?? "", presence?.state ?? 0]);
        } catch (error) {
          if (!gone.signal.aborted) throw error;
        }
      })();
      await answerPresence(agent, [entry("1001", PresenceState.IDLE), entry("1002", PresenceState.IN_USE)]);
      await until(() => seen.length === 2);

      const later = Date.now() + 1000;
      const items = [
        entry("1001", PresenceState.RINGING, later),
        entry("1003", PresenceState.RINGING, later), // not watched
        entry("1002", PresenceState.IDLE, later),
      ].map((value) => {
        sequence += 1n;
        return { sequence, payload: { case: "presence" as const, value } };
      });
      agent.send({ case: "batch", value: { items } });
      assert.equal((await agent.next("ack")).sequence, sequence);
      await until(() => seen.length === 4);
      assert.deepEqual(seen, [
        ["1001", PresenceState.IDLE],
        ["1002", PresenceState.IN_USE],
        ["1001", PresenceState.RINGING],
        ["1002", PresenceState.IDLE],
      ]);
      gone.abort();
      await reading;
    } finally {
      agent.close();
    }
  });

  it("answers a plain Connect streaming POST, as curl sends it", async () => {
    const agent = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId);
    try {
      await agent.next("welcome");
      const body = Buffer.from("{}");
      const envelope = Buffer.concat([Buffer.from([0, 0, 0, 0, body.length]), body]);
      const gone = new AbortController();
      const response = fetch(`${server.url}/callmesh.crm.v1.PresenceService/WatchPresence`, {
        method: "POST",
        headers: { "content-type": "application/connect+json", authorization: `Bearer ${testCredentials.apiKey}` },
        body: envelope,
        signal: gone.signal,
      });
      await answerPresence(agent, [entry("1001", PresenceState.IDLE)]);
      const reader = (await response).body?.getReader();
      assert.ok(reader);
      const chunk = Buffer.from((await reader.read()).value ?? []);
      assert.equal(chunk[0], 0); // a message, not the end-of-stream frame
      const message = JSON.parse(chunk.subarray(5, 5 + chunk.readUInt32BE(1)).toString());
      assert.equal(message.presence.extension, "1001");
      assert.equal(message.presence.state, "PRESENCE_STATE_IDLE");
      gone.abort();
    } finally {
      agent.close();
    }
  });
});

describe("presence watch with a client that stops reading", () => {
  it("drops the watcher with RESOURCE_EXHAUSTED once it falls its queue behind", async () => {
    const server = await startTestServer({ gatewayEnv: { CALLMESH_PRESENCE_QUEUE_LIMIT: "5" } });
    const agent = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId);
    try {
      await agent.next("welcome");
      const changes = presenceClient(server).watchPresence({})[Symbol.asyncIterator]();
      const first = changes.next();
      await answerPresence(agent, [entry("1001", PresenceState.IDLE)]);
      assert.equal((await first).value?.presence?.extension, "1001");

      // The client reads no more; the agent reports changes until the socket buffers are full
      // and the watcher's queue overflows.
      const dropped = async () =>
        /callmesh_gateway_presence_watchers_dropped_total\{[^}]*\} 1\n/.test(
          await (await fetch(`${server.url}/metrics`)).text(),
        );
      let sequence = 0n;
      const device = "x".repeat(4000);
      for (let batch = 0; batch < 40 && !(await dropped()); batch++) {
        const items = Array.from({ length: 500 }, () => {
          sequence += 1n;
          return { sequence, payload: { case: "presence" as const, value: { extension: "1001", device } } };
        });
        agent.send({ case: "batch", value: { items } });
        assert.equal((await agent.next("ack", 10_000)).sequence, sequence);
      }
      assert.ok(await dropped(), "the watcher was dropped");

      // Reading again: what was buffered, then the error.
      await assert.rejects(
        (async () => {
          for (let next = await changes.next(); !next.done; next = await changes.next());
        })(),
        (error: unknown) => error instanceof ConnectError && error.code === Code.ResourceExhausted,
      );
    } finally {
      agent.close();
      await server.stop();
    }
  });
});

describe("presence watch on a stopping gateway", () => {
  it("ends the stream when the gateway stops", async () => {
    const server = await startTestServer();
    const agent = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId);
    await agent.next("welcome");
    const stream = presenceClient(server).watchPresence({});
    const seen: string[] = [];
    const reading = (async () => {
      for await (const { presence } of stream) seen.push(presence?.extension ?? "");
    })();
    await answerPresence(agent, [entry("1001", PresenceState.IDLE)]);
    await until(() => seen.length === 1);
    await server.stop();
    await reading; // ends, and without an error
    agent.close();
  });
});

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
