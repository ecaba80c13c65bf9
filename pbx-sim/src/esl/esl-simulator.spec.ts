import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { createLogger } from "@callmesh/platform/logging.js";
import { eslFixtureUrl } from "./esl-call-templates.js";
import { type EslFrame, frameHeader, parseEslCaptureFile } from "./esl-capture-file.js";
import { type EslEvent, eventFrame, eventHeader, eventName, parsePlainEvent } from "./esl-event.js";
import { DISCONNECT_NOTICE } from "./esl-replies.js";
import { type EslSimulator, type EslSimulatorOptions, startEslSimulator } from "./esl-simulator.js";
import { connectEslTestClient, type EslTestClient, frameEvent } from "./esl-test-client.js";

const TEST = { timeout: 8000 };
const logger = createLogger("pbx-sim-test", "silent");

async function withSimulator(options: EslSimulatorOptions, run: (simulator: EslSimulator) => Promise<void>) {
  const simulator = await startEslSimulator({ timeScale: 0, heartbeatIntervalMs: 0, logger, ...options });
  try {
    await run(simulator);
  } finally {
    await simulator.close();
  }
}

async function subscribed(simulator: EslSimulator, subscription = "event plain ALL") {
  const client = await connectEslTestClient(simulator.port);
  assert.equal(replyText(await client.command("auth ClueCon")), "+OK accepted");
  assert.match(replyText(await client.command(subscription)), /^\+OK event listener enabled/);
  return client;
}

const replyText = (frame: EslFrame) => frameHeader(frame, "Reply-Text") ?? frame.body;
const isEvent = (name: string) => (frame: EslFrame) => {
  const event = frameEvent(frame);
  return event !== undefined && eventName(event) === name;
};
const recorded = (file: string) => parseEslCaptureFile(readFileSync(eslFixtureUrl(file)));
const recordedEvents = (file: string) =>
  recorded(file)
    .frames.filter((frame) => frameHeader(frame, "Content-Type") === "text/event-plain")
    .map((frame) => parsePlainEvent(frame.body))
    .filter((event) => !["HEARTBEAT", "RE_SCHEDULE"].includes(eventName(event)));

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/**
 * Takes out what a played call renews: uuids become their order of appearance, times become
 * offsets from the call's first event, Event-Sequence and session ids become offsets too.
 */
function normalize(events: readonly EslEvent[]): Array<Array<readonly [string, string]>> {
  const uuids = new Map<string, number>();
  const firstUs = Number(eventHeader(events[0] ?? { headers: [] }, "Event-Date-Timestamp"));
  const firstSec = Math.floor(firstUs / 1e6);
  const sessionIds = events.map((event) => Number(eventHeader(event, "variable_session_id") ?? Number.NaN));
  const firstSession = Math.min(...sessionIds.filter((id) => !Number.isNaN(id)));
  const core = eventHeader(events[0] ?? { headers: [] }, "Core-UUID");
  const value = (name: string, text: string) => {
    if (name === "Event-Sequence") return "SEQ";
    if (name === "variable_session_id") return `SESSION+${Number(text) - firstSession}`;
    return text
      .replace(UUID, (uuid) =>
        uuid === core ? "CORE" : `UUID#${uuids.get(uuid) ?? uuids.set(uuid, uuids.size).size - 1}`,
      )
      .replace(
        /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g,
        (date) => `D${Date.parse(`${date.replace(" ", "T")}Z`) / 1000 - firstSec}`,
      )
      .replace(/\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT/g, (date) => `G${Date.parse(date) / 1000 - firstSec}`)
      .replace(/(?<!\d)\d{16}(?!\d)/g, (us) => `T${Number(us) - firstUs}`)
      .replace(/(?<!\d)17\d{8}(?!\d)/g, (sec) => `S${Number(sec) - firstSec}`);
  };
  return events.map((event) => [
    ...event.headers.map(([name, text]) => [name, value(name, text)] as const),
    ["BODY", value("", event.body ?? "")] as const,
  ]);
}

const eventsOf = (client: EslTestClient) => client.events();

/** Waits until `count` frames arrived after `from` (a call's last write resolves before the client reads it). */
const framesAfter = async (client: EslTestClient, from: number, count: number) => {
  await client.waitFor(() => client.frames.length >= from + count, { from, timeoutMs: 4000 });
  return client.frames.slice(from);
};

describe("esl-simulator", () => {
  it("greets with auth/request, accepts the password and subscriptions byte for byte as recorded", TEST, async () => {
    await withSimulator({}, async (simulator) => {
      const capture = recorded("fs-real-01a-inbound-answered-A.txt").frames;
      const client = await connectEslTestClient(simulator.port);
      await client.waitFor(() => true);
      assert.equal(client.received(), capture[0]?.raw);
      await client.command("auth ClueCon");
      await client.command("event plain ALL");
      assert.equal(
        client.received(),
        capture
          .slice(0, 3)
          .map((frame) => frame.raw)
          .join(""),
      );
      assert.equal(replyText(await client.command("event json CHANNEL_CREATE")), "+OK event listener enabled json");
      assert.equal(replyText(await client.command("event plain")), "-ERR no keywords supplied");
      client.close();
    });
  });

  it("refuses a wrong password: -ERR invalid, the disconnect notice, then hangs up", TEST, async () => {
    await withSimulator({ password: "s3cret" }, async (simulator) => {
      const client = await connectEslTestClient(simulator.port);
      client.send("auth ClueCon");
      await client.closed;
      assert.equal(
        client.received(),
        `Content-Type: auth/request\n\nContent-Type: command/reply\nReply-Text: -ERR invalid\n\n${DISCONNECT_NOTICE}`,
      );
      assert.equal(
        DISCONNECT_NOTICE,
        "Content-Type: text/disconnect-notice\nContent-Length: 67\n\nDisconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n",
      );
    });
  });

  it("answers commands before auth with -ERR command not found and still takes auth; exit says bye", TEST, async () => {
    await withSimulator({}, async (simulator) => {
      const client = await connectEslTestClient(simulator.port);
      assert.equal(replyText(await client.command("api status")), "-ERR command not found");
      assert.equal(replyText(await client.command("event plain ALL")), "-ERR command not found");
      assert.equal(replyText(await client.command("auth ClueCon")), "+OK accepted");
      const from = client.frames.length;
      client.send("exit");
      await client.closed;
      assert.deepEqual(
        client.frames.slice(from).map((frame) => frame.raw),
        ["Content-Type: command/reply\nReply-Text: +OK bye\n\n", DISCONNECT_NOTICE],
      );
    });
  });

  it("hangs up on a client that sends nothing before the auth timeout", TEST, async () => {
    await withSimulator({ authTimeoutMs: 50 }, async (simulator) => {
      const client = await connectEslTestClient(simulator.port);
      await client.closed;
      assert.equal(client.received(), `Content-Type: auth/request\n\n${DISCONNECT_NOTICE}`);
    });
  });

  it("plays fs-real-01a with fresh ids and times, every frame as recorded otherwise", TEST, async () => {
    await withSimulator({}, async (simulator) => {
      const client = await subscribed(simulator);
      const from = client.frames.length;
      await simulator.playInboundAnswered();
      const expected = recordedEvents("fs-real-01a-inbound-answered-A.txt");
      const frames = await framesAfter(client, from, expected.length);
      // Each frame is a well-formed FreeSWITCH frame: re-serializing its event gives its bytes back.
      for (const frame of frames) assert.equal(eventFrame(parsePlainEvent(frame.body), "plain"), frame.raw);
      const played = frames.map((frame) => parsePlainEvent(frame.body));
      assert.deepEqual(normalize(played), normalize(expected));
      // Fresh, not recorded: uuids, Core-UUID, sequence growing on the wire.
      const recordedUuid = eventHeader(expected[0] ?? { headers: [] }, "Unique-ID");
      assert.notEqual(eventHeader(played[0] ?? { headers: [] }, "Unique-ID"), recordedUuid);
      assert.equal(eventHeader(played[0] ?? { headers: [] }, "Core-UUID"), simulator.coreUuid);
      const sequences = played.map((event) => Number(eventHeader(event, "Event-Sequence")));
      assert.deepEqual(
        sequences,
        [...sequences].sort((a, b) => a - b),
      );
      const nowUs = Date.now() * 1000;
      const firstUs = Number(eventHeader(played[0] ?? { headers: [] }, "Event-Date-Timestamp"));
      assert.ok(firstUs <= nowUs && firstUs > nowUs - 2_000_000, "times moved to now");
      client.close();
    });
  });

  it("puts the numbers asked for in place of the recorded ones, URL-encoded as FreeSWITCH does", TEST, async () => {
    await withSimulator({}, async (simulator) => {
      const client = await subscribed(simulator);
      await simulator.playInboundAnswered({
        from: "+44 20 7946 0000",
        callerName: "Zoë O'Neil",
        did: "35722555102",
        extension: "1002",
      });
      await framesAfter(client, 3, recordedEvents("fs-real-01a-inbound-answered-A.txt").length);
      const text = client.received();
      assert.ok(!text.includes("35799123456") && !text.includes("John") && !text.includes("Alice"));
      assert.match(text, /\nCaller-Caller-ID-Name: Zo%C3%AB%20O'Neil\n/);
      assert.match(text, /\nCaller-Caller-ID-Number: %2B44%2020%207946%200000\n/);
      assert.match(text, /\nChannel-Name: sofia\/internal\/1002%40127\.0\.0\.1%3A6002\n/);
      assert.match(text, /\nCaller-Destination-Number: 35722555102\n/);
      assert.match(text, /\nvariable_effective_caller_id_name: Bob%20Jones\n/);
      client.close();
    });
  });

  it("sends each listener the events it subscribed to, in its format", TEST, async () => {
    await withSimulator({}, async (simulator) => {
      const plain = await subscribed(simulator);
      const json = await subscribed(simulator, "event json ALL");
      const some = await subscribed(simulator, "event plain CHANNEL_CREATE channel_hangup_complete");
      const none = await subscribed(simulator);
      assert.equal(replyText(await none.command("noevents")), "+OK no longer listening for events");
      assert.equal(replyText(await none.command("noevents")), "-ERR not listening for events");
      await simulator.playOutboundBusy({ extension: "1003", destination: "0044123456" });
      const count = recordedEvents("fs-real-07g-outbound-busy-A.txt").length;
      await framesAfter(json, 3, count);
      await framesAfter(plain, 3, count);
      const plainEvents = eventsOf(plain);
      assert.equal(plainEvents.length, recordedEvents("fs-real-07g-outbound-busy-A.txt").length);
      assert.ok(json.frames.slice(3).every((frame) => frameHeader(frame, "Content-Type") === "text/event-json"));
      // JSON members can repeat (Hangup-Cause…): compare bytes, not parsed objects.
      assert.deepEqual(
        json.frames.slice(3).map((frame) => frame.raw),
        plainEvents.map((event) => eventFrame(event, "json")),
      );
      assert.deepEqual(
        eventsOf(some).map(eventName),
        plainEvents.map(eventName).filter((name) => name === "CHANNEL_CREATE" || name === "CHANNEL_HANGUP_COMPLETE"),
      );
      assert.equal(none.frames.length, 5, "auth/request and four replies, no event");
      for (const client of [plain, json, some, none]) client.close();
    });
  });

  it("filters events by header, and nixes one type out of ALL", TEST, async () => {
    await withSimulator({}, async (simulator) => {
      const client = await subscribed(simulator);
      assert.equal(
        replyText(await client.command("filter Event-Name CHANNEL_ANSWER")),
        "+OK filter added. [Event-Name]=[CHANNEL_ANSWER]",
      );
      const nixed = await subscribed(simulator);
      assert.equal(replyText(await nixed.command("nixevent CODEC")), "+OK events nixed");
      await simulator.playInboundAnswered();
      await nixed.waitFor(isEvent("CHANNEL_DESTROY"), { from: 2 });
      assert.deepEqual(eventsOf(client).map(eventName), ["CHANNEL_ANSWER", "CHANNEL_ANSWER"]);
      const names = eventsOf(nixed).map(eventName);
      assert.ok(!names.includes("CODEC") && names.includes("CHANNEL_CREATE"));
      client.close();
      nixed.close();
    });
  });

  it(
    "bgapi originate: +OK Job-UUID at once, the call, BACKGROUND_JOB +OK <agent uuid> when the agent answers",
    TEST,
    async () => {
      await withSimulator({}, async (simulator) => {
        const plain = await subscribed(simulator);
        const json = await subscribed(simulator, "event json ALL");
        const argument =
          "{crm_id=lead-42,origination_caller_id_name='Call me',origination_caller_id_number=0044700900,effective_caller_id_name='Bob Jones',effective_caller_id_number=1002,originate_timeout=30}user/1002 &bridge(sofia/gateway/provider/0044700900)";
        const reply = await plain.command(`bgapi originate ${argument}`);
        const jobUuid = frameHeader(reply, "Job-UUID") ?? "";
        assert.equal(
          reply.raw,
          `Content-Type: command/reply\nReply-Text: +OK Job-UUID: ${jobUuid}\nJob-UUID: ${jobUuid}\n\n`,
        );
        const jobFrame = await plain.waitFor(isEvent("BACKGROUND_JOB"));
        const job = frameEvent(jobFrame) as EslEvent;
        const agent = eventsOf(plain).find((event) => eventName(event) === "CHANNEL_CREATE");
        const agentUuid = eventHeader(agent ?? { headers: [] }, "Unique-ID");
        assert.equal(job.body, `+OK ${agentUuid}\n`);
        assert.equal(eventHeader(job, "Job-UUID"), jobUuid);
        assert.equal(eventHeader(job, "Job-Command"), "originate");
        assert.equal(eventHeader(job, "Job-Command-Arg"), argument);
        assert.match(jobFrame.body, /\nJob-Command-Arg: %7Bcrm_id%3Dlead-42,origination_caller_id_name%3D'Call%20me',/);
        assert.match(jobFrame.body, /\nContent-Length: 41\n\n\+OK [0-9a-f-]{36}\n$/);
        // Answered before the job result: CHANNEL_ANSWER of the agent leg comes first.
        const names = eventsOf(plain).map(eventName);
        assert.ok(names.indexOf("CHANNEL_ANSWER") < names.indexOf("BACKGROUND_JOB"));
        assert.equal(eventHeader(agent ?? { headers: [] }, "variable_crm_id"), "lead-42");
        assert.equal(eventHeader(agent ?? { headers: [] }, "variable_effective_caller_id_name"), "Bob Jones");
        assert.equal(eventHeader(agent ?? { headers: [] }, "Caller-Caller-ID-Name"), "Call me");
        assert.equal(eventHeader(agent ?? { headers: [] }, "Channel-Name"), "sofia/internal/1002@127.0.0.1:6002");
        const trunk = eventsOf(plain).find((event) =>
          eventHeader(event, "Channel-Name")?.startsWith("sofia/external/"),
        );
        assert.equal(eventHeader(trunk ?? { headers: [] }, "Caller-Destination-Number"), "0044700900");
        const jsonJob = await json.waitFor(isEvent("BACKGROUND_JOB"));
        assert.match(jsonJob.body, /,"Content-Length":"41","_body":"\+OK [0-9a-f-]{36}\\n"\}$/);
        await plain.waitFor(isEvent("CHANNEL_DESTROY"), { from: plain.frames.indexOf(jobFrame) + 20 });
        plain.close();
        json.close();
      });
    },
  );

  it("bgapi originate no answer: the agent rings for originate_timeout, then -ERR NO_ANSWER", TEST, async () => {
    await withSimulator({ timeScale: 0.2, extensions: { "1001": "no-answer" } }, async (simulator) => {
      const client = await subscribed(simulator);
      const started = performance.now();
      await client.command(
        "bgapi originate {crm_id=x,originate_timeout=2}user/1001 &bridge(sofia/gateway/provider/0035799000111)",
      );
      const job = frameEvent(await client.waitFor(isEvent("BACKGROUND_JOB"), { timeoutMs: 4000 })) as EslEvent;
      const elapsed = performance.now() - started;
      assert.equal(job.body, "-ERR NO_ANSWER\n");
      // 2 s ring at timeScale 0.2 is 0.4 s (the recording rang 9.14 s for originate_timeout=10).
      assert.ok(elapsed > 150 && elapsed < 1500, `elapsed ${elapsed}`);
      const hangup = await client.waitFor(isEvent("CHANNEL_HANGUP_COMPLETE"), { timeoutMs: 3000 });
      const complete = frameEvent(hangup) as EslEvent;
      assert.equal(eventHeader(complete, "Hangup-Cause"), "NO_ANSWER");
      assert.equal(eventHeader(complete, "variable_duration"), "2");
      assert.equal(eventHeader(complete, "variable_mduration"), "1140");
      assert.equal(eventHeader(complete, "variable_crm_id"), "x");
      client.close();
    });
  });

  it(
    "originate to a user the directory lacks, an unregistered or a busy phone fails as FreeSWITCH does",
    TEST,
    async () => {
      await withSimulator(
        { extensions: { "1001": "answers", "1005": "unregistered", "1006": "busy" } },
        async (simulator) => {
          const client = await subscribed(simulator, "event plain BACKGROUND_JOB CHANNEL_CREATE");
          const results: string[] = [];
          for (const user of ["9999", "1005", "1006"]) {
            const from = client.frames.length;
            await client.command(
              `bgapi originate {originate_timeout=5}user/${user} &bridge(sofia/gateway/provider/00357)`,
            );
            results.push(
              (frameEvent(await client.waitFor(isEvent("BACKGROUND_JOB"), { from })) as EslEvent).body ?? "",
            );
          }
          assert.deepEqual(results, ["-ERR SUBSCRIBER_ABSENT\n", "-ERR USER_NOT_REGISTERED\n", "-ERR USER_BUSY\n"]);
          assert.ok(!eventsOf(client).some((event) => eventName(event) === "CHANNEL_CREATE"));
          const sync = await client.command("api originate user/9999 &park()");
          assert.equal(
            sync.raw,
            "Content-Type: api/response\nContent-Length: 22\n\n-ERR CHAN_NOT_IMPLEMENTED\n".replace("22", "26"),
          );
          const usage = await client.command("api originate");
          assert.match(usage.body, /^-USAGE: <call url> <exten>/);
          client.close();
        },
      );
    },
  );

  it("api originate answers with api/response +OK <uuid> once the agent answers", TEST, async () => {
    await withSimulator({}, async (simulator) => {
      const client = await subscribed(simulator);
      const response = await client.command(
        "api originate {crm_id=a}user/1001 &bridge(sofia/gateway/provider/0035799123456)",
      );
      assert.match(response.raw, /^Content-Type: api\/response\nContent-Length: 41\n\n\+OK [0-9a-f-]{36}\n$/);
      await client.waitFor(isEvent("CHANNEL_DESTROY"));
      assert.ok(!eventsOf(client).some((event) => eventName(event) === "BACKGROUND_JOB"));
      client.close();
    });
  });

  it("bgapi of any command: the Job-UUID asked for, then API and BACKGROUND_JOB with the output", TEST, async () => {
    await withSimulator({}, async (simulator) => {
      const client = await subscribed(simulator, "event plain BACKGROUND_JOB API");
      const from = client.frames.length;
      client.sendRaw("bgapi hostname\nJob-UUID: my-job-1\n\n");
      const reply = await client.waitFor(() => true, { from });
      assert.equal(
        reply.raw,
        "Content-Type: command/reply\nReply-Text: +OK Job-UUID: my-job-1\nJob-UUID: my-job-1\n\n",
      );
      const job = frameEvent(await client.waitFor(isEvent("BACKGROUND_JOB"), { from })) as EslEvent;
      assert.deepEqual(job.headers.slice(-3), [
        ["Event-Sequence", eventHeader(job, "Event-Sequence")],
        ["Job-UUID", "my-job-1"],
        ["Job-Command", "hostname"],
      ]);
      assert.equal(job.body, "vm");
      const names = eventsOf(client).map(eventName);
      assert.deepEqual(names, ["API", "BACKGROUND_JOB"]);
      const api = eventsOf(client)[0] ?? { headers: [] };
      assert.equal(eventHeader(api, "API-Command"), "hostname");
      assert.equal(eventHeader(api, "Event-Calling-Function"), "switch_api_execute");
      client.close();
    });
  });

  it("api show channels as json lists the calls in progress, then none", TEST, async () => {
    await withSimulator({ timeScale: 0.3 }, async (simulator) => {
      const client = await subscribed(simulator, "event plain CHANNEL_BRIDGE CHANNEL_DESTROY");
      const call = simulator.playInboundAnswered({ extension: "1004" });
      await client.waitFor(isEvent("CHANNEL_BRIDGE"), { timeoutMs: 4000 });
      const response = await client.command("api show channels as json");
      assert.equal(frameHeader(response, "Content-Type"), "api/response");
      const listed = JSON.parse(response.body) as { row_count: number; rows: Array<Record<string, string>> };
      assert.equal(listed.row_count, 2);
      const [caller, agent] = listed.rows;
      assert.equal(caller?.direction, "inbound");
      assert.equal(caller?.name, "sofia/external/+35799123456@127.0.0.1:5070");
      assert.equal(caller?.cid_num, "+35799123456");
      assert.equal(caller?.initial_dest, "35722555101");
      assert.equal(caller?.callstate, "ACTIVE");
      assert.equal(agent?.direction, "outbound");
      assert.equal(agent?.dest, "1004");
      assert.match(agent?.created_epoch ?? "", /^\d{10}$/);
      assert.deepEqual(
        listed.rows.map((row) => row.uuid),
        simulator.channels().map((row) => row.uuid),
      );
      await call;
      assert.equal((await client.command("api show channels as json")).body, '{"row_count": 0}\n');
      assert.equal((await client.command("api show channels")).body, "\n0 total.\n");
      client.close();
    });
  });

  it("sends HEARTBEAT every interval to listeners of HEARTBEAT or ALL", TEST, async () => {
    await withSimulator({ heartbeatIntervalMs: 40 }, async (simulator) => {
      const all = await subscribed(simulator);
      const creates = await subscribed(simulator, "event plain CHANNEL_CREATE");
      const beat = frameEvent(await all.waitFor(isEvent("HEARTBEAT"))) as EslEvent;
      await all.waitFor(isEvent("HEARTBEAT"), { from: all.frames.length });
      assert.deepEqual(
        beat.headers.map(([name]) => name),
        recorded("fs-real-17q-click-to-call-agent-noanswer-A.txt")
          .frames.map((frame) => frame.body)
          .filter((body) => body.startsWith("Event-Name: HEARTBEAT"))
          .map((body) => parsePlainEvent(body).headers.map(([name]) => name))[0],
      );
      assert.equal(eventHeader(beat, "Event-Info"), "System Ready");
      assert.equal(creates.frames.length, 3);
      all.close();
      creates.close();
    });
  });

  it("answers bad input with a clear error, never crashes, and other sessions carry on", TEST, async () => {
    await withSimulator({}, async (simulator) => {
      const bystander = await subscribed(simulator);
      const client = await subscribed(simulator);
      assert.equal(replyText(await client.command("hello world")), "-ERR command not found");
      const from = client.frames.length;
      client.sendRaw(Buffer.from([0x00, 0xff, 0xfe, 0x1b, 0x5b, 0x41, 0x0a, 0x0a]));
      assert.equal(replyText(await client.waitFor(() => true, { from })), "-ERR command not found");
      const huge = client.frames.length;
      client.sendRaw(`api ${"x".repeat(1024 * 1024)}\n\n`);
      assert.equal(
        replyText(await client.waitFor(() => true, { from: huge, timeoutMs: 4000 })),
        "-ERR command not found",
      );
      assert.equal((await client.command("api nosuch thing")).body, "-ERR nosuch Command not found!\n");
      assert.equal((await client.command("api hostname")).body, "vm");
      assert.equal(
        replyText(await client.command("sendmsg 00000000-0000-0000-0000-000000000000")),
        "-ERR invalid session id [00000000-0000-0000-0000-000000000000]",
      );
      assert.equal(replyText(await client.command("log info")), "+OK log level info [6]");
      // A client that vanishes mid-command hurts no one.
      const rude = await connectEslTestClient(simulator.port);
      rude.sendRaw("auth ClueCon\n\nevent plain ALL\n\napi show chan");
      rude.close();
      await simulator.playOutboundBusy();
      await bystander.waitFor(isEvent("CHANNEL_DESTROY"));
      const fresh = await subscribed(simulator);
      assert.equal((await fresh.command("api show channels count")).body, "\n0 total.\n");
      assert.ok(simulator.commands.some((command) => command.command === "hello world"));
      for (const open of [bystander, client, fresh]) open.close();
    });
  });
});
