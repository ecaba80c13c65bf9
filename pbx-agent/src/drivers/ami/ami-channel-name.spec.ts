import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseChannelName } from "./ami-channel-name.js";

describe("channel names", { timeout: 5000 }, () => {
  it("drops the uniqueness suffix of phones and trunks", () => {
    assert.deepEqual(parseChannelName("PJSIP/1001-00000043"), { tech: "PJSIP", resource: "1001" });
    assert.deepEqual(parseChannelName("PJSIP/provider-0000000a"), { tech: "PJSIP", resource: "provider" });
    assert.deepEqual(parseChannelName("SIP/my-trunk-0000001f"), { tech: "SIP", resource: "my-trunk" });
    assert.deepEqual(parseChannelName("DAHDI/1-1"), { tech: "DAHDI", resource: "1" });
  });

  it("keeps dashes that are part of the endpoint", () => {
    assert.deepEqual(parseChannelName("PJSIP/my-trunk"), { tech: "PJSIP", resource: "my-trunk" });
    assert.deepEqual(parseChannelName("PJSIP/sip-abc"), { tech: "PJSIP", resource: "sip-abc" });
  });

  it("reads Local channels: exten, context and half", () => {
    assert.deepEqual(parseChannelName("Local/1001@from-internal-00000005;1"), {
      tech: "Local",
      resource: "1001@from-internal",
      local: { exten: "1001", context: "from-internal", half: 1 },
    });
    assert.equal(parseChannelName("Local/1001@from-queue-0000000b;2").local?.half, 2);
    // A failed OriginateResponse names the channel without suffix or half.
    assert.deepEqual(parseChannelName("Local/1001@from-internal").local, {
      exten: "1001",
      context: "from-internal",
      half: 0,
    });
  });

  it("survives names without a technology", () => {
    assert.deepEqual(parseChannelName("<unknown>"), { tech: "<unknown>", resource: "" });
  });
});
