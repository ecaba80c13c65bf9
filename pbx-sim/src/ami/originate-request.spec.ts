import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseOriginate } from "./originate-request.js";

const FREEPBX = [
  "Action: Originate",
  "ActionID: c2c-1",
  "Channel: Local/1001@from-internal",
  "Context: from-internal",
  "Exten: 0035799123456",
  "Priority: 1",
  'CallerID: "Alice Smith" <1001>',
  "Timeout: 25000",
  "Async: true",
  "Variable: CALLMESH_CALL_ID=call-1",
  "Variable: CRM=x,TENANT=t1",
];

const without = (key: string, headers = FREEPBX) => headers.filter((header) => !header.startsWith(`${key}:`));

describe("originate-request", () => {
  it("reads a FreePBX click-to-call", () => {
    assert.deepEqual(parseOriginate(FREEPBX), {
      ok: true,
      request: {
        actionId: "c2c-1",
        channel: "Local/1001@from-internal",
        extension: "1001",
        context: "from-internal",
        exten: "0035799123456",
        timeoutMs: 25000,
        callerId: { name: "Alice Smith", number: "1001" },
        variables: [
          ["CALLMESH_CALL_ID", "call-1"],
          ["CRM", "x"],
          ["TENANT", "t1"],
        ],
        async: true,
      },
    });
    const defaults = parseOriginate(without("Timeout", without("Async")));
    assert.ok(defaults.ok && defaults.request.timeoutMs === 30000 && !defaults.request.async);
  });

  it("answers bad requests with Asterisk's messages", () => {
    const message = (headers: string[]) => {
      const parsed = parseOriginate(headers);
      return parsed.ok ? undefined : parsed.message;
    };
    assert.equal(message(without("Channel")), "Channel not specified");
    assert.equal(message([...without("Priority"), "Priority: first"]), "Invalid priority");
    assert.equal(message([...without("Timeout"), "Timeout: soon"]), "Invalid timeout");
    assert.equal(message([...without("Channel"), "Channel: nonsense"]), "Invalid channel");
    assert.equal(message([...without("Exten"), "Exten: abc"]), "Extension does not exist.");
    assert.equal(message(without("Priority")), "Originate with 'Exten' requires 'Context' and 'Priority'");
    assert.equal(message([...without("Channel"), "Channel: PJSIP/1001"]), "Originate failed");
  });
});
