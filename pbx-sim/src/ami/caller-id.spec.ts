import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCallerId } from "./caller-id.js";

describe("caller-id", () => {
  it("parses the forms an Originate CallerID takes", () => {
    assert.deepEqual(parseCallerId('"Alice Smith" <1001>'), { name: "Alice Smith", number: "1001" });
    assert.deepEqual(parseCallerId("CRM <+357 (99) 123-456>"), { name: "CRM", number: "+35799123456" });
    assert.deepEqual(parseCallerId("1001"), { name: undefined, number: "1001" });
    assert.deepEqual(parseCallerId("Panoramisk tests"), { name: "Panoramisk tests", number: undefined });
    assert.deepEqual(parseCallerId(""), { name: undefined, number: undefined });
  });
});
