import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { CallEventKind, CallEventSchema } from "@callmesh/gen/callmesh/events/v1/call_event_pb.js";
import { createCallIndex } from "./call-index.js";

const event = (callId: string, kind: CallEventKind, agentId = "pbx-1") =>
  create(CallEventSchema, { callId, kind, tenantId: "t1", agentId });

describe("call index", () => {
  it("knows the agent of a call from its events until its hangup", () => {
    const index = createCallIndex();
    index.observe(event("c1", CallEventKind.RINGING));
    index.observe(event("c1", CallEventKind.ANSWERED));
    assert.deepEqual(index.ownerOf("c1"), { tenantId: "t1", agentId: "pbx-1" });
    index.observe(event("c1", CallEventKind.HANGUP));
    assert.equal(index.ownerOf("c1"), undefined);
  });

  it("follows a call that moves to another agent, and keeps at most `limit` calls, oldest out first", () => {
    const index = createCallIndex({ limit: 2 });
    index.observe(event("c1", CallEventKind.RINGING));
    index.observe(event("c1", CallEventKind.ANSWERED, "pbx-2"));
    assert.equal(index.ownerOf("c1")?.agentId, "pbx-2");
    index.observe(event("c2", CallEventKind.RINGING));
    index.observe(event("c3", CallEventKind.RINGING));
    assert.equal(index.size, 2);
    assert.equal(index.ownerOf("c1"), undefined);
    assert.ok(index.ownerOf("c3"));
  });
});
