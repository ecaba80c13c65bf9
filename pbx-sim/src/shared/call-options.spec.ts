import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inboundOverrides, outboundOverrides } from "./call-options.js";

describe("call-options", () => {
  it("names the facts the options replace", () => {
    assert.deepEqual(inboundOverrides({ from: "+1555", extension: "1002" }), {
      callerNumber: "+1555",
      extension: "1002",
    });
    assert.deepEqual(outboundOverrides({ destination: "0044" }), { destination: "0044" });
  });

  it("refuses values that would forge header lines", () => {
    assert.throws(() => inboundOverrides({ callerName: "x\r\nEvent: Hangup" }), TypeError);
    assert.throws(() => outboundOverrides({ extension: "" }), TypeError);
  });
});
