import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { timestampFromMicros } from "../../normalize/timestamp.js";
import { parseAmiTimestamp } from "./ami-time.js";

describe("AMI time", { timeout: 5000 }, () => {
  it("reads Timestamp headers to the exact microsecond", () => {
    assert.equal(parseAmiTimestamp("1796125061.659274"), 1_796_125_061_659_274);
    assert.equal(parseAmiTimestamp("1796125061.5"), 1_796_125_061_500_000);
    assert.equal(parseAmiTimestamp("1796125061"), 1_796_125_061_000_000);
    assert.equal(parseAmiTimestamp(undefined), undefined);
    assert.equal(parseAmiTimestamp("soon"), undefined);
    assert.equal(parseAmiTimestamp("1.x"), undefined);
  });

  it("writes protobuf Timestamps and whole seconds, to the nearest", () => {
    const timestamp = timestampFromMicros(1_796_125_061_659_274);
    assert.equal(timestamp.seconds, 1_796_125_061n);
    assert.equal(timestamp.nanos, 659_274_000);
  });
});
