import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { captureHeader, splitCaptureHeaders } from "./capture-headers.js";

describe("capture-headers", () => {
  it("splits the '#' lines off and leaves the recorded bytes untouched", () => {
    const capture = Buffer.from("# source: recorded\n# scenario: inbound\nContent-Type: auth/request\n\n");
    const { headers, bytes } = splitCaptureHeaders(capture);
    assert.deepEqual(headers, ["source: recorded", "scenario: inbound"]);
    assert.equal(bytes.toString("utf8"), "Content-Type: auth/request\n\n");
    assert.equal(captureHeader({ headers }, "scenario"), "inbound");
    assert.equal(captureHeader({ headers }, "missing"), undefined);
  });
});
