import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { actionHeader, actionVariables, toReceivedAction } from "./received-action.js";

describe("received-action", () => {
  const headers = [
    "Action: Originate",
    "actionid: c2c-1",
    "Variable: CALLMESH_CALL_ID=call-1",
    "Variable: A=1,B=x=y",
    'Variable: "C=a,b",NOEQUALS,=novalue',
    "Channel:Local/1001@from-internal",
    "garbage line",
  ];

  it("records the action with fields keyed as sent and repeated keys as arrays", () => {
    assert.deepEqual(toReceivedAction(headers), {
      name: "Originate",
      fields: {
        Action: "Originate",
        actionid: "c2c-1",
        Variable: ["CALLMESH_CALL_ID=call-1", "A=1,B=x=y", '"C=a,b",NOEQUALS,=novalue'],
        Channel: "Local/1001@from-internal",
      },
    });
    assert.equal(toReceivedAction(["ActionID: 1"]), undefined);
  });

  it("finds headers as astman_get_header does", () => {
    assert.equal(actionHeader(headers, "ActionID"), "c2c-1");
    assert.equal(actionHeader(headers, "Channel"), "Local/1001@from-internal");
    assert.equal(actionHeader(["Action : Ping"], "Action"), "");
    assert.equal(actionHeader(["Action: ", "Action: Ping"], "Action", true), "Ping");
  });

  it("splits variables on commas, in the order sent", () => {
    assert.deepEqual(actionVariables(headers), [
      ["CALLMESH_CALL_ID", "call-1"],
      ["A", "1"],
      ["B", "x=y"],
      ["C", "a,b"],
    ]);
  });
});
