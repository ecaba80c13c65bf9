import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createAmiActionReader } from "./ami-action-reader.js";

describe("ami-action-reader", () => {
  it("reads CRLF and bare-LF messages, whatever the chunking", () => {
    const reader = createAmiActionReader();
    const bytes = Buffer.from("Action: Ping\r\nActionID: 1\r\n\r\naction: ping\nactionid: 2\n\n");
    const messages = [];
    for (const byte of bytes) messages.push(...reader.push(Buffer.from([byte])));
    assert.deepEqual(messages, [
      { headers: ["Action: Ping", "ActionID: 1"] },
      { headers: ["action: ping", "actionid: 2"] },
    ]);
  });

  it("reports an empty message for a lone blank line, as Asterisk does", () => {
    assert.deepEqual(createAmiActionReader().push(Buffer.from("\r\n")), [{ headers: [] }]);
  });

  it("drops an overlong line without buffering it and flags its message", () => {
    const reader = createAmiActionReader({ maxLineBytes: 1024 });
    assert.deepEqual(reader.push(Buffer.alloc(70 * 1024, "x")), []);
    assert.deepEqual(reader.push(Buffer.alloc(70 * 1024, "y")), []);
    assert.deepEqual(reader.push(Buffer.from("yyy\r\nActionID: 7\r\n\r\nAction: Ping\r\n\r\n")), [
      { headers: ["ActionID: 7"], problem: "line-too-long" },
      { headers: ["Action: Ping"] },
    ]);
  });

  it("flags a message with too many lines", () => {
    const reader = createAmiActionReader({ maxHeaders: 3 });
    assert.deepEqual(reader.push(Buffer.from("A: 1\nB: 2\nC: 3\nD: 4\n\n")), [
      { headers: ["A: 1", "B: 2", "C: 3"], problem: "too-many-lines" },
    ]);
  });

  it("survives binary garbage", () => {
    const reader = createAmiActionReader();
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, index) => (index * 7919) % 256));
    const messages = reader.push(garbage);
    assert.ok(messages.every((message) => Array.isArray(message.headers)));
    assert.deepEqual(reader.push(Buffer.from("\r\n\r\nAction: Ping\r\n\r\n")).at(-1), { headers: ["Action: Ping"] });
  });
});
