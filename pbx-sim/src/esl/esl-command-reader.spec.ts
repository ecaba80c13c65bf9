import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createEslCommandReader } from "./esl-command-reader.js";

describe("esl-command-reader", () => {
  it("splits commands on a blank line, across chunks, with CRLF and leading blank lines", () => {
    const reader = createEslCommandReader();
    assert.deepEqual(reader.push(Buffer.from("\n\r\nauth Clue")), []);
    const packets = reader.push(Buffer.from("Con\n\napi status\r\n\r\nevent plain ALL\n\n"));
    assert.deepEqual(
      packets.map((packet) => packet.kind === "command" && packet.command),
      ["auth ClueCon", "api status", "event plain ALL"],
    );
  });

  it("reads header lines and a Content-Length body (sendmsg)", () => {
    const reader = createEslCommandReader();
    const [packet] = reader.push(Buffer.from("sendmsg abc\ncall-command: execute\ncontent-length: 5\n\nhello"));
    assert.deepEqual(packet, {
      kind: "command",
      command: "sendmsg abc",
      headers: [
        ["call-command", "execute"],
        ["content-length", "5"],
      ],
      body: "hello",
    });
  });

  it("reports a packet longer than the limit as oversized without keeping it, then reads on", () => {
    const reader = createEslCommandReader(1024);
    const packets = [
      ...reader.push(Buffer.alloc(600_000, "x")),
      ...reader.push(Buffer.concat([Buffer.alloc(400_000, "y"), Buffer.from("\n\nexit\n\n")])),
    ];
    assert.deepEqual(packets, [
      { kind: "oversized", bytes: 1_000_002 },
      { kind: "command", command: "exit", headers: [] },
    ]);
  });
});
