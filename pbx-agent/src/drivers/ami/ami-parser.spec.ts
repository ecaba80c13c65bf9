import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { randomChunks, readCapture } from "./ami-capture-fixture.js";
import type { AmiMessage } from "./ami-message.js";
import { type AmiParserOptions, createAmiParser } from "./ami-parser.js";

interface Parsed {
  banners: string[];
  messages: AmiMessage[];
  parser: ReturnType<typeof createAmiParser>;
}

function parse(chunks: Iterable<Uint8Array | string>, options: Partial<AmiParserOptions> = {}): Parsed {
  const banners: string[] = [];
  const messages: AmiMessage[] = [];
  const parser = createAmiParser({
    onMessage: (message) => messages.push(message),
    onBanner: (banner) => banners.push(banner),
    ...options,
  });
  for (const chunk of chunks) parser.push(chunk);
  return { banners, messages, parser };
}

const fieldsOf = (parsed: Parsed) => parsed.messages.map((message) => message.fields);

/** Blocks of a capture counted independently of the parser: runs of lines between blank lines. */
function countBlocks(bytes: Buffer): number {
  const lines = bytes.toString("utf8").split(/\r?\n/);
  let blocks = 0;
  let inBlock = false;
  for (const line of lines) {
    if (line === "") inBlock = false;
    else if (!inBlock && !line.startsWith("Asterisk Call Manager/")) {
      inBlock = true;
      blocks++;
    }
  }
  return blocks;
}

describe("AMI parser", { timeout: 10_000 }, () => {
  const capture = readCapture("ast-real-01a-inbound-answered-A.txt");

  it("reads a real Asterisk 20 session: banner line, then one message per block", () => {
    const parsed = parse([capture]);
    assert.deepEqual(parsed.banners, ["Asterisk Call Manager/9.0.0"]);
    assert.equal(parsed.messages.length, countBlocks(capture));
    const [login, booted] = parsed.messages;
    assert.equal(login?.response, "Success");
    assert.equal(login?.get("ActionID"), "crm-1");
    assert.equal(booted?.event, "FullyBooted");
    assert.equal(parsed.messages.at(-1)?.event, "QueueMemberStatus");
    assert.deepEqual(parsed.parser.stats, {
      messages: parsed.messages.length,
      banners: 1,
      oversizedLines: 0,
      malformedLines: 0,
      skippedBlocks: 0,
      clientActions: 0,
      unterminatedFollows: 0,
      truncatedBlocks: 0,
    });
  });

  it("gives the same messages whatever the chunk sizes", () => {
    const whole = fieldsOf(parse([capture]));
    for (const [seed, maxSize] of [
      [1, 3],
      [7, 17],
      [42, 200],
      [2024, 4096],
    ] as const) {
      assert.deepEqual(fieldsOf(parse(randomChunks(capture, seed, maxSize))), whole, `seed ${seed}`);
    }
    const byteByByte = parse(Array.from(capture, (byte) => Uint8Array.of(byte)));
    assert.deepEqual(fieldsOf(byteByByte), whole, "one byte at a time");
  });

  it("cuts anywhere: inside CRLF, inside a key, inside a UTF-8 sequence", () => {
    const bytes = Buffer.from(
      "Asterisk Call Manager/9.0.0\r\nEvent: Newchannel\r\nCallerIDName: José Müller\r\nLinkedid: 1.2\r\n\r\nResponse: Success\r\n\r\n",
    );
    const whole = fieldsOf(parse([bytes]));
    assert.deepEqual(whole, [
      ["Event", "Newchannel", "CallerIDName", "José Müller", "Linkedid", "1.2"],
      ["Response", "Success"],
    ]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const parsed = parse([bytes.subarray(0, cut), bytes.subarray(cut)]);
      assert.deepEqual(fieldsOf(parsed), whole, `cut at ${cut}`);
      assert.deepEqual(parsed.banners, ["Asterisk Call Manager/9.0.0"], `cut at ${cut}`);
    }
  });

  it("accepts LF line endings and skips blocks that are neither event nor response", () => {
    // The panoramisk fixture interleaves the client's own Action block with the server's answer.
    const parsed = parse([readCapture("ami-login-banner-ok.txt")]);
    assert.deepEqual(parsed.banners, ["Asterisk Call Manager/1.3"]);
    assert.deepEqual(
      parsed.messages.map((message) => message.event ?? message.response),
      ["Success", "FullyBooted"],
    );
    assert.equal(parsed.parser.stats.clientActions, 1, "the client's Action block, not garbage");
    assert.equal(parsed.parser.stats.skippedBlocks, 0);
  });

  it("keeps keys as sent and looks them up case-insensitively", () => {
    const [cel] = parse(["Event: CEL\r\nLinkedID: 1796125061.82\r\nUniqueID: 1796125061.82\r\n\r\n"]).messages;
    assert.deepEqual(cel?.fields, ["Event", "CEL", "LinkedID", "1796125061.82", "UniqueID", "1796125061.82"]);
    assert.equal(cel?.get("Linkedid"), "1796125061.82");
    assert.equal(cel?.get("linkedid"), "1796125061.82");
    assert.equal(cel?.get("Missing"), undefined);
    assert.equal(cel?.has("uniqueid"), true);
  });

  it("keeps repeated keys as lists", () => {
    const parsed = parse([readCapture("ami-ast16-chansip-call-answered-chanvariable-goami2.txt")]);
    const withVariables = parsed.messages.find((message) => message.get("ChanVariable") === "realm=");
    assert.ok(withVariables);
    assert.deepEqual(withVariables.getAll("ChanVariable").slice(0, 3), ["realm=", "SIPDOMAIN=", "SIPCALLID="]);
    assert.equal(withVariables.get("chanvariable"), "realm=", "get gives the first");
    const [originate] = parse([
      "Response: Success\r\nVariable: A=1\r\nvariable: B=2\r\nVARIABLE: C=3\r\n\r\n",
    ]).messages;
    assert.deepEqual(originate?.getAll("Variable"), ["A=1", "B=2", "C=3"]);
  });

  it("trims only the one space after the colon: trailing spaces are data", () => {
    const [message] = parse([
      "Event: X\r\nAccountCode: \r\nValue: two trailing  \r\nTight:value\r\nWide:  indented\r\nEmpty:\r\nUrl: http://a:b@c\r\n\r\n",
    ]).messages;
    assert.equal(message?.get("AccountCode"), "");
    assert.equal(message?.get("Value"), "two trailing  ");
    assert.equal(message?.get("Tight"), "value");
    assert.equal(message?.get("Wide"), " indented");
    assert.equal(message?.get("Empty"), "");
    assert.equal(message?.get("Url"), "http://a:b@c");
  });

  describe("Response: Follows (before Asterisk 14)", () => {
    it("collects the free text up to --END COMMAND-- as Output lines", () => {
      const parsed = parse([readCapture("ami-command-follows-core-show-channels.txt")]);
      assert.equal(parsed.parser.stats.clientActions, 1, "the client's Action block");
      const [follows] = parsed.messages;
      assert.equal(follows?.response, "Follows");
      assert.equal(follows?.get("ActionID"), "generated_id");
      assert.equal(follows?.get("Privilege"), "Command");
      assert.deepEqual(follows?.getAll("Output"), [
        "Channel              Location             State   Application(Data)             ",
        "0 active channels",
        "0 active calls",
        "2 calls processed",
      ]);
    });

    it("keeps a value with a colon in the text, and reads what follows the block", () => {
      const parsed = parse([readCapture("ami-command-follows-core-show-version.txt"), "Event: Next\r\n\r\n"]);
      assert.deepEqual(parsed.messages[0]?.getAll("Output"), [
        "Asterisk 11.11.0+xivo.14.15~20140724.155259.ed5592b-wheezy built by root @ wheezy-farm on a x86_64 running Linux on 2014-08-06 19:30:37 UTC",
      ]);
      assert.equal(parsed.messages[1]?.event, "Next");
    });

    it("handles --END COMMAND-- glued to the last line, blank lines inside, and the traffic after it", () => {
      const stream =
        "Response: Follows\r\nPrivilege: Command\r\nActionID: 7\r\n" +
        "Name/username: 1001\n\nSecond: paragraph\n2 calls processed--END COMMAND--\r\n\r\n" +
        "Event: Hangup\r\nUniqueid: 1.1\r\n\r\n";
      const bytes = Buffer.from(stream);
      for (let cut = 1; cut < bytes.length; cut++) {
        const parsed = parse([bytes.subarray(0, cut), bytes.subarray(cut)]);
        assert.equal(parsed.messages.length, 2, `cut at ${cut}`);
        assert.deepEqual(parsed.messages[0]?.getAll("Output"), [
          "Name/username: 1001",
          "",
          "Second: paragraph",
          "2 calls processed",
        ]);
        assert.equal(parsed.messages[0]?.get("ActionID"), "7");
        assert.equal(parsed.messages[1]?.get("Uniqueid"), "1.1");
      }
    });

    it("does not let a lost --END COMMAND-- swallow the rest of the session", () => {
      const parsed = parse([
        "Response: Follows\r\nActionID: 8\r\nsome output\r\n\r\nEvent: Newchannel\r\nUniqueid: 2.2\r\n\r\nEvent: Hangup\r\n\r\n",
      ]);
      assert.deepEqual(
        parsed.messages.map((message) => message.event ?? message.response),
        ["Follows", "Newchannel", "Hangup"],
      );
      assert.deepEqual(parsed.messages[0]?.getAll("Output"), ["some output"]);
      assert.equal(parsed.parser.stats.unterminatedFollows, 1);
    });

    it("reads the Asterisk 14+ form as plain repeated Output keys", () => {
      const [message] = parse([
        "Response: Success\r\nMessage: Command output follows\r\nOutput: line 1\r\nOutput: \r\nOutput: line 3\r\n\r\n",
      ]).messages;
      assert.deepEqual(message?.getAll("Output"), ["line 1", "", "line 3"]);
    });
  });

  describe("garbage", () => {
    const good = "Event: Good\r\nUniqueid: 9.9\r\n\r\n";

    it("drops a line over 1 MiB, whole or spread over chunks, and keeps going", () => {
      const huge = "x".repeat(1024 * 1024 + 10);
      const inOneChunk = parse([`Event: Big\r\nValue: ${huge}\r\nKept: yes\r\n\r\n${good}`]);
      assert.equal(inOneChunk.parser.stats.oversizedLines, 1);
      assert.deepEqual(inOneChunk.messages[0]?.fields, ["Event", "Big", "Kept", "yes"]);
      assert.equal(inOneChunk.messages[1]?.event, "Good");

      const chunks = [
        "Event: Big\r\nValue: ",
        ...Array.from({ length: 40 }, () => "y".repeat(64 * 1024)),
        "\r\n\r\n",
        good,
      ];
      const spread = parse(chunks);
      assert.equal(spread.parser.stats.oversizedLines, 1);
      assert.deepEqual(
        spread.messages.map((message) => message.event),
        ["Big", "Good"],
      );
    });

    it("tolerates binary bytes and stray lines", () => {
      const binary = Buffer.from(Array.from({ length: 4096 }, (_, index) => (index * 131 + 7) % 256));
      const parsed = parse([binary, "\r\n\r\n", good, Buffer.from([0xff, 0xfe, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]), good]);
      assert.deepEqual(parsed.messages.filter((message) => message.event === "Good").length, 2);
    });

    it("skips a block without Event or Response, and counts it", () => {
      const parsed = parse([`Foo: bar\r\nBaz: qux\r\n\r\n${good}`]);
      assert.deepEqual(
        parsed.messages.map((message) => message.event),
        ["Good"],
      );
      assert.equal(parsed.parser.stats.skippedBlocks, 1);
    });

    it("drops a block cut off by the end of the stream, and counts it", () => {
      const parsed = parse([`${good}Event: Hangup\r\nUniqueid: 1.`]);
      parsed.parser.end();
      assert.deepEqual(
        parsed.messages.map((message) => message.event),
        ["Good"],
      );
      assert.equal(parsed.parser.stats.truncatedBlocks, 1);
      parsed.parser.push(good);
      assert.equal(parsed.messages.length, 2, "usable again after end()");
    });

    it("survives a listener that throws", () => {
      const errors: unknown[] = [];
      let seen = 0;
      const parsed = parse([good, good], {
        onMessage: () => {
          seen++;
          throw new Error("listener bug");
        },
        onListenerError: (error) => errors.push(error),
      });
      assert.equal(seen, 2);
      assert.equal(errors.length, 2);
      assert.equal(parsed.parser.stats.messages, 2);
    });
  });
});
