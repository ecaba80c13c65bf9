import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deriveCallId } from "../drivers/ami/ami-call-id.js";
import { deriveEslCallId } from "../drivers/esl/esl-call-id.js";
import { deriveCallIdIn } from "./call-id.js";

describe("deriveCallIdIn", () => {
  it("gives a UUID v5, the same for the same input", () => {
    const namespace = Buffer.alloc(16, 7);
    const id = deriveCallIdIn(namespace, "agent-1", "1700000000.42");
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(deriveCallIdIn(namespace, "agent-1", "1700000000.42"), id);
    assert.notEqual(deriveCallIdIn(namespace, "agent-2", "1700000000.42"), id);
  });

  it("keeps the ids each driver already gave out (its own namespace)", () => {
    assert.equal(deriveCallId("agent-1", "1700000000.42"), "516d3c63-271f-50d5-8904-dcc075ed02ed");
    assert.equal(
      deriveEslCallId("agent-1", "8f6e1a2b-0000-4000-8000-000000000001"),
      "b3f0118a-3b68-506f-b2da-b13ec4987ded",
    );
  });
});
