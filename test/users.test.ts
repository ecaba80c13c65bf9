// Users with scopes (issue 5, REQUIREMENTS C5 "permissions per role"): a CRM server's key
// creates users and mints their tokens; a user token does what the user's scopes allow, never
// more than its minter, and loses a scope the moment the user does.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CommandStatus } from "@callmesh/gen/callmesh/agent/v1/agent_service_pb.js";
import { CallEventKind } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { reasonOf } from "./support/connect-json.js";
import { connectFakeAgent } from "./support/fake-agent.js";
import { postJson, startTestServer, type TestServer, testCredentials } from "./support/server.js";

const users = (name: string) => `callmesh.admin.v1.UserService/${name}`;
const calls = (name: string) => `callmesh.crm.v1.CallService/${name}`;

const other = { tenantId: "other", apiKey: "cmk_other_admin", agentId: "other-pbx", agentToken: "cma_other" };
const noManageKey = "cmk_no_manage";
const controlManagerKey = "cmk_control_manager";

describe("users and their tokens", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await server.directory.createTenant(other.tenantId, "Another tenant");
    await server.directory.addApiKey(other.tenantId, other.apiKey, ["users:manage", "calls:supervise"]);
    await server.directory.addApiKey(testCredentials.tenantId, noManageKey, ["calls:control"]);
    await server.directory.addApiKey(testCredentials.tenantId, controlManagerKey, ["users:manage", "calls:control"]);
  });
  after(() => server.stop());

  async function createUser(body: Record<string, unknown>, key = testCredentials.apiKey) {
    const { status, json } = await postJson(server.url, users("CreateUser"), body, key);
    assert.equal(status, 200, JSON.stringify(json));
    return json.user as { userId: string; username: string; scopes?: string[] };
  }

  async function mint(userId: string, key = testCredentials.apiKey, ttlSeconds = 0) {
    const { status, json } = await postJson(server.url, users("CreateUserToken"), { userId, ttlSeconds }, key);
    assert.equal(status, 200, JSON.stringify(json));
    return json as { token: string; expiresAt: string; scopes?: string[] };
  }

  it("creates a user, refuses a taken name and bad fields, and lists by name a page at a time", async () => {
    const alice = await createUser({
      username: "alice",
      displayName: "Alice Smith",
      extension: "1001",
      scopes: ["calls:supervise"],
    });
    assert.match(alice.userId, /^usr_/);
    assert.deepEqual(alice.scopes, ["calls:supervise"]);

    const taken = await postJson(server.url, users("CreateUser"), { username: "alice" });
    assert.equal(taken.json.code, "already_exists");
    assert.equal(reasonOf(taken.json), "username_taken");
    for (const [body, field] of [
      [{ username: "Alice!" }, "username"],
      [{ username: "bob", scopes: ["calls:everything"] }, "scopes"],
      [{ username: "bob", extension: "10a" }, "extension"],
    ] as const) {
      const bad = await postJson(server.url, users("CreateUser"), body);
      assert.equal(bad.json.code, "invalid_argument", JSON.stringify(body));
      assert.match(String(bad.json.message), new RegExp(field));
    }

    await createUser({ username: "bob" });
    await createUser({ username: "carol" });
    const first = await postJson(server.url, users("ListUsers"), { pageSize: 2 });
    const firstUsers = first.json.users as { username: string }[];
    assert.deepEqual(
      firstUsers.map((u) => u.username),
      ["alice", "bob"],
    );
    const second = await postJson(server.url, users("ListUsers"), { pageSize: 2, pageToken: first.json.nextPageToken });
    assert.deepEqual(
      (second.json.users as { username: string }[]).map((u) => u.username),
      ["carol"],
    );
    assert.equal(second.json.nextPageToken, undefined);
    const badToken = await postJson(server.url, users("ListUsers"), { pageToken: "!!" });
    assert.equal(badToken.json.code, "invalid_argument");

    // Another tenant sees none of them and cannot touch them.
    const theirs = await postJson(server.url, users("ListUsers"), {}, other.apiKey);
    assert.deepEqual(theirs.json.users, undefined);
    for (const rpc of ["DeleteUser", "CreateUserToken", "SetUserScopes"]) {
      const foreign = await postJson(server.url, users(rpc), { userId: alice.userId }, other.apiKey);
      assert.equal(foreign.json.code, "not_found", rpc);
      assert.equal(reasonOf(foreign.json), "user_not_found", rpc);
    }
  });

  it("needs users:manage, and nobody grants a scope they lack", async () => {
    const denied = await postJson(server.url, users("ListUsers"), {}, noManageKey);
    assert.equal(denied.json.code, "permission_denied");
    assert.equal(reasonOf(denied.json), "scope_missing");
    assert.match(String(denied.json.message), /users:manage/);

    const escalation = await postJson(
      server.url,
      users("CreateUser"),
      { username: "dave", scopes: ["calls:supervise"] },
      controlManagerKey,
    );
    assert.equal(escalation.json.code, "permission_denied");
    assert.equal(reasonOf(escalation.json), "scope_not_held");
    assert.match(String(escalation.json.message), /calls:supervise/);

    // A token minted by a key carries only the user's scopes that the key holds too.
    const erin = await createUser({ username: "erin", scopes: ["calls:supervise", "calls:control"] });
    const token = await mint(erin.userId, controlManagerKey);
    assert.deepEqual(token.scopes, ["calls:control"]);
    const ttl = await postJson(server.url, users("CreateUserToken"), { userId: erin.userId, ttlSeconds: 30 });
    assert.equal(ttl.json.code, "invalid_argument");
    const tooLong = await postJson(server.url, users("CreateUserToken"), { userId: erin.userId, ttlSeconds: 86_401 });
    assert.equal(tooLong.json.code, "invalid_argument");
    assert.match(String(tooLong.json.message), /ttl_seconds/);
  });

  it("lets a user token do what the user's scopes allow, and stops at once when they change", async () => {
    const agent = connectFakeAgent(server.url, testCredentials.agentToken, testCredentials.agentId);
    try {
      await agent.next("welcome");
      const callId = "7a1d3c52-0d6e-4a57-9a50-6c2a6f1f0001";
      agent.send({
        case: "batch",
        value: {
          items: [
            {
              sequence: 1n,
              payload: {
                case: "event",
                value: { eventId: `${callId}:1`, callId, sequence: 1, kind: CallEventKind.ANSWERED },
              },
            },
          ],
        },
      });
      await agent.next("ack");

      const supervisor = await createUser({ username: "sam", extension: "1009", scopes: ["calls:supervise"] });
      const { token, expiresAt, scopes } = await mint(supervisor.userId, testCredentials.apiKey, 600);
      assert.match(token, /^cmu_/);
      assert.deepEqual(scopes, ["calls:supervise"]);
      const lifetime = Date.parse(expiresAt) - Date.now();
      assert.ok(lifetime > 590_000 && lifetime <= 600_000, `expires in ${lifetime} ms`);

      // Spy: allowed. The command reaches the PBX's agent.
      const spy = postJson(server.url, calls("Spy"), { callId, supervisor: "1009" }, token);
      const command = await agent.next("command");
      assert.equal(command.action.case, "spy");
      agent.send({ case: "commandResult", value: { commandId: command.commandId, status: CommandStatus.OK } });
      assert.equal((await spy).status, 200);

      // Hangup needs calls:control, which Sam lacks; any user may list calls.
      const hangup = await postJson(server.url, calls("Hangup"), { callId }, token);
      assert.equal(hangup.json.code, "permission_denied");
      assert.equal(reasonOf(hangup.json), "scope_missing");
      const list = postJson(server.url, calls("ListActiveCalls"), {}, token);
      const ask = await agent.next("command");
      agent.send({
        case: "commandResult",
        value: { commandId: ask.commandId, status: CommandStatus.OK, detail: { case: "calls", value: { calls: [] } } },
      });
      assert.equal((await list).status, 200);

      // Sam loses calls:supervise: the same token is refused Spy from the next request on.
      const demoted = await postJson(server.url, users("SetUserScopes"), { userId: supervisor.userId, scopes: [] });
      assert.deepEqual((demoted.json.user as { scopes?: string[] }).scopes, undefined);
      const refused = await postJson(server.url, calls("Spy"), { callId, supervisor: "1009" }, token);
      assert.equal(reasonOf(refused.json), "scope_missing");
      assert.equal(agent.received.filter((r) => r.message.case === "command").length, 0, "no command reached the PBX");

      // A token never acts for another tenant, nor on its calls.
      const foreign = await postJson(server.url, calls("GetCall"), { callId, tenantId: other.tenantId }, token);
      assert.equal(foreign.json.code, "permission_denied");
      assert.equal(reasonOf(foreign.json), "tenant_not_permitted");

      // Deleted: the token stops working.
      assert.equal((await postJson(server.url, users("DeleteUser"), { userId: supervisor.userId })).status, 200);
      const gone = await postJson(server.url, calls("ListActiveCalls"), {}, token);
      assert.equal(gone.json.code, "unauthenticated");
      assert.equal(reasonOf(gone.json), "invalid_user_token");
      const again = await postJson(server.url, users("DeleteUser"), { userId: supervisor.userId });
      assert.equal(again.json.code, "not_found");
      const forged = await postJson(server.url, calls("ListActiveCalls"), {}, "cmu_not-a-token");
      assert.equal(reasonOf(forged.json), "invalid_user_token");
    } finally {
      agent.close();
    }
  });
});
