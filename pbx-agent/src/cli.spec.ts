import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { PassThrough, Writable } from "node:stream";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { runCli } from "./cli.js";
import { withoutCommentHeader } from "./replay/capture-file.js";

const examples = fileURLToPath(new URL("../examples/", import.meta.url));
const asteriskExample = `${examples}asterisk-inbound-answered.txt`;
const freeswitchExample = `${examples}freeswitch-inbound-answered.txt`;

interface Line {
  event?: { callId: string; sequence: number; kind: string; extension?: string };
  cdr?: { callId: string; direction: string; fromNumber: string; toNumber: string; answeredBy: string; status: string };
}

/** Runs the CLI in this process; stdin is `input` when given. */
async function cli(args: string[], input?: Uint8Array) {
  let stdout = "";
  const sink = new Writable({
    write(chunk, _encoding, done) {
      stdout += String(chunk);
      done();
    },
  });
  const stdin = new PassThrough();
  stdin.end(input ?? new Uint8Array());
  const stderr: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => stderr.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    const code = await runCli(args, { stdout: sink as unknown as typeof process.stdout, stdin: stdin as never });
    return { code, stdout, stderr: stderr.join("") };
  } finally {
    process.stderr.write = write;
  }
}

const linesOf = (stdout: string): Line[] =>
  stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Line);

describe("callmesh-agent replay", () => {
  it("prints the events then the Cdr of an Asterisk capture as JSON lines in protobuf JSON names", async () => {
    const { code, stdout } = await cli(["replay", "--driver", "ami", asteriskExample]);
    assert.equal(code, 0);
    const lines = linesOf(stdout);
    const events = lines.flatMap((line) => (line.event ? [line.event] : []));
    const cdrs = lines.flatMap((line) => (line.cdr ? [line.cdr] : []));
    assert.deepEqual(
      events.map((event) => [event.sequence, event.kind]),
      [
        [1, "CALL_EVENT_KIND_RINGING"],
        [2, "CALL_EVENT_KIND_ANSWERED"],
        [3, "CALL_EVENT_KIND_HANGUP"],
      ],
    );
    assert.equal(cdrs.length, 1);
    assert.deepEqual(
      {
        direction: cdrs[0]?.direction,
        from: cdrs[0]?.fromNumber,
        to: cdrs[0]?.toNumber,
        answeredBy: cdrs[0]?.answeredBy,
        status: cdrs[0]?.status,
      },
      {
        direction: "CALL_DIRECTION_INBOUND",
        from: "+35799123456",
        to: "35722555101",
        answeredBy: "1001",
        status: "CALL_STATUS_SUCCESS",
      },
    );
    assert.ok(
      events.every((event) => event.callId === cdrs[0]?.callId),
      "one call id throughout",
    );
    assert.ok(lines.at(-1)?.cdr, "the Cdr comes last");
  });

  it("prints the same for a FreeSWITCH capture", async () => {
    const { code, stdout } = await cli(["replay", "--driver", "esl", freeswitchExample]);
    assert.equal(code, 0);
    const cdr = linesOf(stdout).find((line) => line.cdr)?.cdr;
    assert.equal(cdr?.direction, "CALL_DIRECTION_INBOUND");
    assert.equal(cdr?.answeredBy, "1001");
    assert.equal(cdr?.status, "CALL_STATUS_SUCCESS");
  });

  it("gives the same output whatever the line endings, with what the client sent interleaved, and from stdin", async () => {
    const expected = (await cli(["replay", "--driver", "ami", asteriskExample])).stdout;
    const capture = readFileSync(asteriskExample, "latin1");
    const lf = capture.replaceAll("\r\n", "\n");
    const body = Buffer.from(withoutCommentHeader(Buffer.from(capture, "latin1"))).toString("latin1");
    const cut = body.indexOf("\r\n\r\n", body.length / 2) + 4;
    const withActions = `${body.slice(0, cut)}Action: Ping\r\nActionID: 77\r\n\r\n${body.slice(cut)}`;
    for (const [name, variant] of [
      ["LF", lf],
      ["actions", withActions],
    ] as const) {
      const { code, stdout } = await cli(["replay", "--driver", "ami", "-"], Buffer.from(variant, "latin1"));
      assert.equal(code, 0, name);
      assert.equal(stdout, expected, name);
    }
  });

  it("takes trunk rules: a context that is not a trunk makes the call internal", async () => {
    const { stdout } = await cli(["replay", "--driver", "ami", "--trunk-context", "nothing-here", asteriskExample]);
    const cdr = linesOf(stdout).find((line) => line.cdr)?.cdr;
    assert.notEqual(cdr?.direction, "CALL_DIRECTION_INBOUND");
  });

  it("answers a bad command line with a clear message and exit code 2", async () => {
    const cases: [string[], RegExp][] = [
      [["replay", asteriskExample], /--driver must be ami or esl \(got nothing\)/],
      [["replay", "--driver", "sip", asteriskExample], /--driver must be ami or esl \(got sip\)/],
      [["replay", "--driver", "ami"], /replay takes one FILE/],
      [["replay", "--driver", "ami", "/nonexistent/capture.txt"], /cannot read \/nonexistent\/capture.txt: ENOENT/],
      [["replay", "--driver", "ami", "--extension-pattern", "(", asteriskExample], /not a regular expression/],
      [["replay", "--driver", "ami", "--colour", asteriskExample], /Unknown option '--colour'/],
      [["replay-all"], /unknown command "replay-all"/],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await cli(args);
      assert.equal(code, 2, args.join(" "));
      assert.equal(stdout, "");
      assert.match(stderr, message);
      assert.match(stderr, /Usage:/);
    }
  });

  it("runs as `npx callmesh-agent`: the installed bin", { timeout: 60_000 }, async () => {
    const bin = fileURLToPath(new URL("../../node_modules/.bin/callmesh-agent", import.meta.url));
    const { stdout } = await promisify(execFile)(bin, ["replay", "--driver", "ami", asteriskExample]);
    assert.equal(stdout, (await cli(["replay", "--driver", "ami", asteriskExample])).stdout);
  });
});
