import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { blockValue, formatAmiBlock, parseAmiBlock, parseAmiLine, splitAmiStream } from "./ami-block.js";

describe("ami-block", () => {
  it("keeps values as written: empty, trailing and leading spaces", () => {
    assert.deepEqual(parseAmiLine("AccountCode: "), { key: "AccountCode", separator: ": ", value: "" });
    assert.deepEqual(parseAmiLine("Value:    minrtt=0;"), { key: "Value", separator: ": ", value: "   minrtt=0;" });
    assert.deepEqual(parseAmiLine('Extra: {"a":1}'), { key: "Extra", separator: ": ", value: '{"a":1}' });
    assert.deepEqual(parseAmiLine("garbage"), { key: "garbage", separator: "", value: "" });
  });

  it("formats CRLF lines closed by a blank line", () => {
    assert.equal(
      formatAmiBlock([
        ["Response", "Success"],
        ["Ping", "Pong"],
      ]),
      "Response: Success\r\nPing: Pong\r\n\r\n",
    );
  });

  it("splits a stream into banner and messages, reading keys case-insensitively", () => {
    const { banner, blocks } = splitAmiStream(
      "Asterisk Call Manager/9.0.0\r\nResponse: Success\r\nActionID: 1\r\n\r\nEvent: X\r\nchannel: PJSIP/1\r\n\r\n",
    );
    assert.equal(banner, "Asterisk Call Manager/9.0.0");
    assert.equal(blocks.length, 2);
    assert.equal(blockValue(blocks[1] ?? [], "Channel"), "PJSIP/1");
    assert.deepEqual(parseAmiBlock("A: 1\nB: 2\n"), [
      { key: "A", separator: ": ", value: "1" },
      { key: "B", separator: ": ", value: "2" },
    ]);
  });
});
