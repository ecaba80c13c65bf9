// Call control through the gateway (REQUIREMENTS C5): each CallService RPC becomes the right
// Command on the stream of the agent that reported the call, and each result status comes
// back as the right Connect code. A scripted agent speaks the real AgentService protocol.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ensureDevTenant } from "@callmesh/gateway/domain/dev-bootstrap.js";
import { allScopes } from "@callmesh/gateway/domain/scopes.js";
import {
  type CommandResultSchema,
  CommandStatus,
  SpyMode,
  TransferMode,
} from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { ActiveCallState } from "@callmesh/gen/callmesh/events/v1/active_call_pb.js";
import { CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { reasonOf } from "./support/connect-json.js";
import { connectFakeAgent } from "./support/fake-agent.js";
import { postJson, startTestServer, type TestServer, testCredentials } from "./support/server.js";

const rpc = (name: string) => `callmesh.crm.v1.CallService/${name}`;
type FakeAgent = ReturnType<typeof connectFakeAgent>;
type Detail = MessageInitShape<typeof CommandResultSchema>["detail"];

const other = { tenantId: "other", apiKey: "cmk_other_key", agentId: "other-pbx", agentToken: "cma_other_token" };
const secondAgent = { agentId: "test-pbx-2", agentToken: "cma_test_token_2" };
const noScopeKey = "cmk_no_scopes";
const controlOnlyKey = "cmk_control_only";

let sequence = 0n;
/** The agent reports a ringing call, as the driver would; resolves once the gateway stored it. */
async function reportCall(agent: FakeAgent, callId: string, kind = CallEventKind.RINGING): Promise<void> {
  sequence += 1n;
  agent.send({
    case: "batch",
    value: {
      items: [
        {
          sequence,
          payload: { case: "event", value: { eventId: `${callId}:${sequence}`, callId, sequence: 1, kind } },
        },
      ],
    },
  });
  assert.equal((await agent.next("ack")).sequence, sequence);
}

/** Answers the next command with `status` (and `detail`), returning the command. */
async function answer(agent: FakeAgent, status: CommandStatus, detail?: Detail) {
  const command = await agent.next("command");
  agent.send({ case: "commandResult", value: { commandId: command.commandId, status, detail } });
  return command;
}

describe("call control", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    const directory = server.directory;
    await directory.createTenant(other.tenantId, "Another tenant");
    await directory.addApiKey(other.tenantId, other.apiKey, ["calls:control", "calls:supervise"]);
    await directory.addAgent(other.tenantId, other.agentId, other.agentToken);
    await directory.addAgent(testCredentials.tenantId, secondAgent.agentId, secondAgent.agentToken);
    await directory.addApiKey(testCredentials.tenantId, noScopeKey, []);
    await directory.addApiKey(testCredentials.tenantId, controlOnlyKey, ["calls:control"]);
  });
  after(() => server.stop());

  const callId = "5f0c9a52-0d6e-4a57-9a50-6c2a6f1f0001";
  /** Each RPC, a valid request, the Command case it must become and what that command must say. */
  const actions = [
    { name: "Hangup", body: { callId, party: "1001" }, action: "hangup", expect: { callId, party: "1001" } },
    {
      name: "Transfer",
      body: { callId, destination: "1002", mode: "TRANSFER_MODE_ATTENDED", party: "1001" },
      action: "transfer",
      expect: { callId, destination: "1002", mode: TransferMode.ATTENDED, party: "1001" },
    },
    { name: "Hold", body: { callId }, action: "hold", expect: { callId, party: "" } },
    { name: "Resume", body: { callId, party: "1001" }, action: "resume", expect: { callId, party: "1001" } },
    { name: "Park", body: { callId }, action: "park", expect: { callId } },
    {
      name: "SendDtmf",
      body: { callId, digits: "12#", party: "1001" },
      action: "sendDtmf",
      expect: { callId, digits: "12#", party: "1001" },
    },
    {
      name: "AddToConference",
      body: { callId, room: "sales-weekly" },
      action: "addToConference",
      expect: { callId, room: "sales-weekly" },
    },
    {
      name: "Spy",
      body: { callId, supervisor: "1009", mode: "SPY_MODE_WHISPER", party: "1001" },
      action: "spy",
      expect: { callId, supervisor: "1009", mode: SpyMode.WHISPER, party: "1001" },
    },
    {
      name: "Intercept",
      body: { callId, extension: "1005" },
      action: "intercept",
      expect: { callId, extension: "1005" },
    },
  ] as const;

  const outcomes = [
    [CommandStatus.CALL_NOT_FOUND, "not_found", "call_not_found"],
    [CommandStatus.WRONG_CALL_STATE, "failed_precondition", "wrong_call_state"],
    [CommandStatus.PBX_REFUSED, "failed_precondition", "pbx_refused"],
    [CommandStatus.PBX_UNREACHABLE, "unavailable", "pbx_unreachable"],
    [CommandStatus.TIMEOUT, "deadline_exceeded", "pbx_timeout"],
    [CommandStatus.UNSUPPORTED, "failed_precondition", "command_unsupported"],
  ] as const;

  it("sends each control RPC as its Command and maps every result status to a Connect code", async () => {
    const agent = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId);
    try {
      await agent.next("welcome");
      for (const { name, body, action, expect } of actions) {
        await reportCall(agent, callId);
        const reply = postJson(server.url, rpc(name), body);
        const command = await answer(
          agent,
          CommandStatus.OK,
          name === "Park" ? { case: "parkedAt", value: "701" } : undefined,
        );
        assert.equal(command.action.case, action, name);
        const sent = command.action.value as unknown as Record<string, unknown>;
        for (const [field, value] of Object.entries(expect)) assert.equal(sent[field], value, `${name}.${field}`);
        const ok = await reply;
        assert.equal(ok.status, 200, `${name}: ${JSON.stringify(ok.json)}`);
        if (name === "Park") assert.deepEqual(ok.json, { parkedAt: "701" });
        else if (name === "Spy") {
          // The supervisor's call gets an id of the gateway's, and Hangup with it reaches the same PBX.
          const spyCallId = (command.action.value as { spyCallId: string }).spyCallId;
          assert.match(spyCallId, /^[0-9a-f-]{36}$/);
          assert.deepEqual(ok.json, { spyCallId });
          const hangup = postJson(server.url, rpc("Hangup"), { callId: spyCallId });
          const sent = await answer(agent, CommandStatus.OK);
          assert.equal(sent.action.case, "hangup");
          assert.equal((sent.action.value as { callId: string }).callId, spyCallId);
          assert.equal((await hangup).status, 200);
        } else assert.deepEqual(ok.json, {});

        for (const [status, code, reason] of outcomes) {
          await reportCall(agent, callId); // CALL_NOT_FOUND makes the gateway forget the call
          const refused = postJson(server.url, rpc(name), body);
          assert.equal((await answer(agent, status)).action.case, action);
          const { json } = await refused;
          assert.equal(json.code, code, `${name} ${CommandStatus[status]}`);
          assert.equal(reasonOf(json), reason, `${name} ${CommandStatus[status]}`);
        }
      }
    } finally {
      agent.close();
    }
  });

  it("asks the tenant's agents for a call it has not seen (after a gateway restart) and remembers the answer", async () => {
    const agent = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId);
    try {
      await agent.next("welcome");
      const unseen = "5f0c9a52-0d6e-4a57-9a50-6c2a6f1f0002";
      const reply = postJson(server.url, rpc("Hold"), { callId: unseen });
      const ask = await answer(agent, CommandStatus.OK, {
        case: "calls",
        value: { calls: [{ callId: unseen, state: ActiveCallState.ANSWERED }] },
      });
      assert.equal(ask.action.case, "listCalls");
      assert.equal(ask.action.value.callId, unseen);
      assert.equal((await answer(agent, CommandStatus.OK)).action.case, "hold");
      assert.equal((await reply).status, 200);

      // Known now: straight to the command.
      const again = postJson(server.url, rpc("Resume"), { callId: unseen });
      assert.equal((await answer(agent, CommandStatus.OK)).action.case, "resume");
      assert.equal((await again).status, 200);

      // Nobody has it.
      const missing = postJson(server.url, rpc("Hangup"), { callId: "no-such-call" });
      assert.equal(
        (await answer(agent, CommandStatus.OK, { case: "calls", value: { calls: [] } })).action.case,
        "listCalls",
      );
      const { json } = await missing;
      assert.equal(json.code, "not_found");
      assert.equal(reasonOf(json), "call_not_found");
    } finally {
      agent.close();
    }
  });

  it("answers NOT_FOUND for another tenant's call and never reaches that tenant's PBX", async () => {
    const mine = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId);
    const theirs = connectFakeAgent(server.url, other.agentToken, other.agentId);
    try {
      await mine.next("welcome");
      await theirs.next("welcome");
      const theirCall = "5f0c9a52-0d6e-4a57-9a50-6c2a6f1f0003";
      await reportCall(theirs, theirCall);
      for (const name of ["Hangup", "GetCall"]) {
        const { json } = await postJson(server.url, rpc(name), { callId: theirCall });
        assert.equal(json.code, "not_found", name);
        assert.equal(reasonOf(json), "call_not_found", name);
      }
      await sleep(50);
      assert.equal(theirs.received.filter((r) => r.message.case === "command").length, 0);
      assert.equal(mine.received.filter((r) => r.message.case === "command").length, 0);

      // Its own tenant controls it.
      const reply = postJson(server.url, rpc("Hangup"), { callId: theirCall }, other.apiKey);
      assert.equal((await answer(theirs, CommandStatus.OK)).action.case, "hangup");
      assert.equal((await reply).status, 200);
    } finally {
      mine.close();
      theirs.close();
    }
  });

  it("refuses a key without the scope an RPC needs, naming the scope", async () => {
    const agent = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId);
    try {
      await agent.next("welcome");
      await reportCall(agent, callId);
      const control = await postJson(server.url, rpc("Hangup"), { callId }, noScopeKey);
      assert.equal(control.status, 403);
      assert.equal(control.json.code, "permission_denied");
      assert.equal(reasonOf(control.json), "scope_missing");
      assert.match(String(control.json.message), /calls:control/);
      for (const [name, body] of [
        ["Spy", { callId, supervisor: "1009" }],
        ["Intercept", { callId, extension: "1005" }],
      ] as const) {
        const { json } = await postJson(server.url, rpc(name), body, controlOnlyKey);
        assert.equal(json.code, "permission_denied", name);
        assert.match(String(json.message), /calls:supervise/, name);
      }
      assert.equal(agent.received.filter((r) => r.message.case === "command").length, 0);

      // Reading live calls needs no scope.
      const list = postJson(server.url, rpc("ListActiveCalls"), {}, noScopeKey);
      await answer(agent, CommandStatus.OK, { case: "calls", value: { calls: [] } });
      assert.equal((await list).status, 200);
    } finally {
      agent.close();
    }
  });

  it("gives a development key stored by an older version the scopes added since", async () => {
    const olderKey = "cmk_from_an_older_version";
    await server.directory.addApiKey(testCredentials.tenantId, olderKey, ["calls:write", "calls:control", "cdrs:read"]);
    const before = await postJson(server.url, rpc("Intercept"), { callId, extension: "1005" }, olderKey);
    assert.equal(reasonOf(before.json), "scope_missing");
    await ensureDevTenant(server.directory, { ...testCredentials, apiKey: olderKey });
    const principal = await server.directory.authenticateApiKey(olderKey);
    assert.deepEqual([...(principal?.scopes ?? [])].sort(), [...allScopes].sort());
  });

  it("merges the active calls of every online agent, oldest first, stamped with tenant and agent", async () => {
    const first = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId);
    const second = connectFakeAgent(server.url, secondAgent.agentToken, secondAgent.agentId);
    try {
      await first.next("welcome");
      await second.next("welcome");
      const now = Date.now();
      const call = (id: string, agoMs: number, answeredBy = "") => ({
        callId: id,
        tenantId: "claimed-by-agent",
        startedAt: timestampFromMs(now - agoMs),
        answeredBy,
        state: answeredBy ? ActiveCallState.ANSWERED : ActiveCallState.RINGING,
      });
      const listed = postJson(server.url, rpc("ListActiveCalls"), {});
      await Promise.all([
        answer(first, CommandStatus.OK, {
          case: "calls",
          value: { calls: [call("a", 1000, "1001"), call("c", 30_000)] },
        }),
        answer(second, CommandStatus.OK, { case: "calls", value: { calls: [call("b", 5000, "1002")] } }),
      ]);
      const { json } = await listed;
      const calls = json.calls as Record<string, unknown>[];
      assert.deepEqual(
        calls.map((c) => [c.callId, c.tenantId, c.agentId]),
        [
          ["c", "dev", testCredentials.agentId],
          ["b", "dev", secondAgent.agentId],
          ["a", "dev", testCredentials.agentId],
        ],
      );

      const filtered = postJson(server.url, rpc("ListActiveCalls"), { extension: "1002" });
      await Promise.all([
        answer(first, CommandStatus.OK, { case: "calls", value: { calls: [call("a", 1000, "1001")] } }),
        answer(second, CommandStatus.OK, { case: "calls", value: { calls: [call("b", 5000, "1002")] } }),
      ]);
      assert.deepEqual(
        ((await filtered).json.calls as Record<string, unknown>[]).map((c) => c.callId),
        ["b"],
      );

      // GetCall goes to the agent that listed the call.
      const one = postJson(server.url, rpc("GetCall"), { callId: "b" });
      const ask = await answer(second, CommandStatus.OK, {
        case: "calls",
        value: { calls: [call("b", 5000, "1002")] },
      });
      assert.equal(ask.action.case, "listCalls");
      const got = (await one).json.call as Record<string, unknown>;
      assert.equal(got.agentId, secondAgent.agentId);
      assert.equal(got.state, "ACTIVE_CALL_STATE_ANSWERED");
      assert.equal(first.received.filter((r) => r.message.case === "command").length, 0);

      // Ended since: NOT_FOUND.
      const ended = postJson(server.url, rpc("GetCall"), { callId: "b" });
      await answer(second, CommandStatus.OK, { case: "calls", value: { calls: [] } });
      assert.equal((await ended).json.code, "not_found");
    } finally {
      first.close();
      second.close();
    }
  });

  it("answers the calls of the agents that answered and names those that did not", async () => {
    const first = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId);
    const second = connectFakeAgent(server.url, secondAgent.agentToken, secondAgent.agentId);
    try {
      await first.next("welcome");
      await second.next("welcome");
      const listed = postJson(server.url, rpc("ListActiveCalls"), {});
      await Promise.all([
        answer(first, CommandStatus.OK, { case: "calls", value: { calls: [{ callId: "up-1" }] } }),
        answer(second, CommandStatus.PBX_UNREACHABLE),
      ]);
      const { status, json } = await listed;
      assert.equal(status, 200, JSON.stringify(json));
      assert.deepEqual(
        (json.calls as Record<string, unknown>[]).map((c) => [c.callId, c.agentId]),
        [["up-1", testCredentials.agentId]],
      );
      assert.deepEqual(json.unansweredAgents, [{ agentId: secondAgent.agentId, reason: "pbx_unreachable" }]);

      // When no agent answers, the list fails with the error of the first.
      const none = postJson(server.url, rpc("ListActiveCalls"), {});
      await Promise.all([answer(first, CommandStatus.TIMEOUT), answer(second, CommandStatus.PBX_UNREACHABLE)]);
      const failed = (await none).json;
      assert.equal(failed.code, "deadline_exceeded");
      assert.equal(reasonOf(failed), "pbx_timeout");
    } finally {
      first.close();
      second.close();
    }
  });

  it("forgets a call at its hangup event", async () => {
    const agent = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId);
    try {
      await agent.next("welcome");
      const ended = "5f0c9a52-0d6e-4a57-9a50-6c2a6f1f0004";
      await reportCall(agent, ended);
      await reportCall(agent, ended, CallEventKind.HANGUP);
      const reply = postJson(server.url, rpc("Hangup"), { callId: ended });
      assert.equal(
        (await answer(agent, CommandStatus.OK, { case: "calls", value: { calls: [] } })).action.case,
        "listCalls",
      );
      assert.equal((await reply).json.code, "not_found");
    } finally {
      agent.close();
    }
  });

  it("answers UNAVAILABLE when the agent that has the call is offline", async () => {
    const agent = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId);
    await agent.next("welcome");
    const orphan = "5f0c9a52-0d6e-4a57-9a50-6c2a6f1f0005";
    await reportCall(agent, orphan);
    agent.close();
    await sleep(100);
    for (const [name, body] of [
      ["Hangup", { callId: orphan }],
      ["ListActiveCalls", {}],
    ] as const) {
      const { json } = await postJson(server.url, rpc(name), body);
      assert.equal(json.code, "unavailable", name);
      assert.equal(reasonOf(json), "agent_offline", name);
    }
  });

  it("names the bad field of every control RPC", async () => {
    for (const [name, body, field] of [
      ["Hangup", { callId: "" }, "call_id"],
      ["Hangup", { callId, party: "10 01" }, "party"],
      ["Transfer", { callId, destination: "sales" }, "destination"],
      ["Transfer", { callId, destination: "1002", mode: 7 }, "mode"],
      ["Hold", { callId: "x".repeat(65) }, "call_id"],
      ["Resume", { callId, party: "abc" }, "party"],
      ["Park", { callId, party: "abc" }, "party"],
      ["SendDtmf", { callId, digits: "12x" }, "digits"],
      ["AddToConference", { callId, room: "a room" }, "room"],
      ["Spy", { callId, supervisor: "boss" }, "supervisor"],
      ["Spy", { callId, supervisor: "1009", mode: 9 }, "mode"],
      ["Intercept", { callId, extension: "" }, "extension"],
      ["ListActiveCalls", { extension: "1" }, "extension"],
      ["GetCall", { callId: "" }, "call_id"],
    ] as const) {
      const { status, json } = await postJson(server.url, rpc(name), body);
      assert.equal(status, 400, `${name} ${field}`);
      assert.equal(json.code, "invalid_argument", `${name} ${field}`);
      assert.match(String(json.message), new RegExp(field), `${name} ${field}`);
    }
  });
});

describe("call control across a gateway restart", () => {
  it("finds a call reported to the previous gateway by asking the agent", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "callmesh-restart-"));
    const callId = "5f0c9a52-0d6e-4a57-9a50-6c2a6f1f0010";
    try {
      const first = await startTestServer({ dataDir });
      const before = connectFakeAgent(first.url, testCredentials.agentToken, testCredentials.agentId);
      await before.next("welcome");
      await reportCall(before, callId, CallEventKind.ANSWERED);
      await first.stop();
      before.close();

      const second = await startTestServer({ dataDir });
      const agent = connectFakeAgent(second.url, testCredentials.agentToken, testCredentials.agentId);
      try {
        await agent.next("welcome");
        const reply = postJson(second.url, rpc("Transfer"), { callId, destination: "1002" });
        const ask = await answer(agent, CommandStatus.OK, {
          case: "calls",
          value: { calls: [{ callId, state: ActiveCallState.ANSWERED, answeredBy: "1001" }] },
        });
        assert.equal(ask.action.case, "listCalls");
        const transfer = await answer(agent, CommandStatus.OK);
        assert.equal(transfer.action.case, "transfer");
        assert.equal(transfer.action.value.mode, TransferMode.BLIND);
        assert.equal((await reply).status, 200);
      } finally {
        agent.close();
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
