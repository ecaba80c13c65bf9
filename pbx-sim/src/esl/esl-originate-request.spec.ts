import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseOriginate } from "./esl-originate-request.js";

describe("esl-originate-request", () => {
  it("reads the recorder's click-to-call: {vars} in order, quotes removed, the bridged number", () => {
    const parsed = parseOriginate(
      "{crm_id=abc123,origination_caller_id_name='Click-to-call',origination_caller_id_number=0035799123456,effective_caller_id_name='Alice Smith',effective_caller_id_number=1001,originate_timeout=30,ignore_early_media=true}user/1001 &bridge(sofia/gateway/provider/0035799123456)",
    );
    assert.deepEqual(parsed, {
      ok: true,
      request: {
        extension: "1001",
        destination: "0035799123456",
        variables: [
          ["crm_id", "abc123"],
          ["origination_caller_id_name", "Click-to-call"],
          ["origination_caller_id_number", "0035799123456"],
          ["effective_caller_id_name", "Alice Smith"],
          ["effective_caller_id_number", "1001"],
          ["originate_timeout", "30"],
          ["ignore_early_media", "true"],
        ],
        timeoutSec: 30,
        callerIdName: "Click-to-call",
        callerIdNumber: "0035799123456",
      },
    });
  });

  it("takes a dialplan extension, caller ID and timeout words, and defaults to 60 s", () => {
    const parsed = parseOriginate("user/1002@127.0.0.1 0035799123456 XML default 'Sales line' 35722555100 15");
    assert.ok(parsed.ok);
    assert.equal(parsed.request.destination, "0035799123456");
    assert.equal(parsed.request.callerIdName, "Sales line");
    assert.equal(parsed.request.callerIdNumber, "35722555100");
    assert.equal(parsed.request.timeoutSec, 15);
    const plain = parseOriginate("{x='a, b'}user/1003 0044");
    assert.ok(plain.ok);
    assert.equal(plain.request.timeoutSec, 60);
    assert.deepEqual(plain.request.variables, [["x", "a, b"]]);
  });

  it("answers what cannot be played as FreeSWITCH's api would", () => {
    assert.deepEqual(parseOriginate("user/1001"), {
      ok: false,
      reply:
        "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n",
    });
    assert.deepEqual(parseOriginate("sofia/gateway/provider/0044 &park()"), {
      ok: false,
      reply: "-ERR CHAN_NOT_IMPLEMENTED\n",
    });
    // An unclosed `{` swallows the rest of the line: one word, so too few arguments.
    const unclosed = parseOriginate("{a=1 user/1001 0044");
    assert.ok(!unclosed.ok && unclosed.reply.startsWith("-USAGE:"));
  });
});
