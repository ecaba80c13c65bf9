// bench/agent-parse: how fast the agent turns PBX bytes into call truth, on one core.
// AMI: the real Asterisk 20 captures (every ast-real-* fixture), copied many times with
// fresh Uniqueids/Linkedids and shifted timestamps so each copy is new calls, fed in 64 KiB
// chunks to (1) asterisk-manager's parser alone — the baseline, measured in the same run —
// (2) our AMI parser alone, (3) our parser + call tracker (the normalizer the driver uses).
// ESL: the real FreeSWITCH 1.10 captures the same way, through our ESL normalizer.
// Prints events/s (median of the rounds) and the ratios. `npm run bench:agent`.

import { EventEmitter } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { setImmediate as nextLoop } from "node:timers/promises";
import { createAmiNormalizer } from "@callmesh/pbx-agent/drivers/ami/ami-normalizer.js";
import { createAmiParser } from "@callmesh/pbx-agent/drivers/ami/ami-parser.js";
import { createEslNormalizer } from "@callmesh/pbx-agent/drivers/esl/esl-normalizer.js";
import type { PbxNormalizer } from "@callmesh/pbx-agent/ports/pbx-normalizer.js";
import { withoutCommentHeader } from "@callmesh/pbx-agent/replay/capture-file.js";

const targetEvents = Number(process.env.BENCH_EVENTS ?? 300_000);
/** FreeSWITCH events are ~5 KB each (AMI ~0.5 KB): fewer of them keep the input in memory. */
const targetEslEvents = Number(process.env.BENCH_ESL_EVENTS ?? 60_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const chunkBytes = 64 * 1024;
const fixtures = (driver: "ami" | "esl") => new URL(`../pbx-agent/src/drivers/${driver}/fixtures/`, import.meta.url);

/** The captures of `prefix`, without their comment headers, as text (latin1 keeps every byte). */
function captures(driver: "ami" | "esl", prefix: string): string[] {
  const dir = fixtures(driver);
  return readdirSync(dir)
    .filter((name) => name.startsWith(prefix) && name.endsWith(".txt"))
    .sort()
    .map((name) => Buffer.from(withoutCommentHeader(readFileSync(new URL(name, dir)))).toString("latin1"));
}

/**
 * Copy `n` of a session: its PBX ids and times moved so no two copies share a call.
 * AMI ids are `<epoch>.<n>` and times `Timestamp: <epoch>.<µs>`; ESL ids are UUIDs and
 * times µs epochs.
 */
function amiCopy(session: string, n: number): string {
  return session
    .replace(/\b(1[0-9]{9})\.(\d+)\b/g, (_, epoch: string, seq: string) => `${Number(epoch) + n * 100}.${seq}`)
    .replace(/^(Timestamp: )(\d+)/gm, (_, key: string, epoch: string) => `${key}${Number(epoch) + n * 100}`);
}
function eslCopy(session: string, n: number): string {
  const hex = n.toString(16).padStart(8, "0");
  return session.replace(/\b[0-9a-f]{8}(-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/g, `${hex}$1`);
}

/** Concatenated copies until about `targetEvents` events; answers the chunks and the event count. */
function buildInput(
  sessions: string[],
  copy: (s: string, n: number) => string,
  countEvents: (s: string) => number,
  target: number,
) {
  const perPass = sessions.reduce((sum, s) => sum + countEvents(s), 0);
  const passes = Math.max(1, Math.ceil(target / perPass));
  const parts: Buffer[] = [];
  for (let n = 0; n < passes; n++) for (const s of sessions) parts.push(Buffer.from(copy(s, n), "latin1"));
  const bytes = Buffer.concat(parts);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunkBytes) chunks.push(bytes.subarray(at, at + chunkBytes));
  return { chunks, events: perPass * passes, bytes: bytes.length };
}

/** asterisk-manager's reader, driven through a stand-in socket: no network, just its parser and emits. */
function asteriskManagerParser(onEvent: () => void) {
  const require = createRequire(import.meta.url);
  const net = require("node:net") as { createConnection: unknown };
  const socket = Object.assign(new EventEmitter(), {
    setKeepAlive() {},
    setNoDelay() {},
    setEncoding() {},
    readyState: "open",
  });
  const original = net.createConnection;
  net.createConnection = () => socket;
  try {
    const Manager = require("asterisk-manager") as (...args: unknown[]) => EventEmitter & {
      connect(port: number, host: string): void;
    };
    const manager = Manager();
    manager.connect(5038, "127.0.0.1");
    manager.on("managerevent", onEvent);
    return (text: string) => socket.emit("data", text);
  } finally {
    net.createConnection = original;
  }
}

type Subject = { name: string; run: () => Promise<number> };

async function time(subject: Subject) {
  const started = process.hrtime.bigint();
  const seen = await subject.run();
  return { seen, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

async function measure(title: string, events: number, subjects: Subject[]) {
  const results = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const subject of subjects) {
      const { seen, seconds } = await time(subject);
      if (seen === 0) throw new Error(`${subject.name} saw nothing`);
      results.get(subject.name)?.push(events / seconds);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  console.log(`\n${title}: ${events} events, median of ${rounds} rounds`);
  const medians = new Map([...results].map(([name, xs]) => [name, median(xs)]));
  for (const [name, rate] of medians)
    console.log(`  ${name.padEnd(44)} ${Math.round(rate).toLocaleString("en")} events/s`);
  return medians;
}

const ami = buildInput(
  captures("ami", "ast-real-"),
  amiCopy,
  (s) => s.match(/\r\nEvent: |^Event: /g)?.length ?? 0,
  targetEvents,
);
const drainTicks = () => nextLoop(); // asterisk-manager emits each event on its own process.nextTick
const normalizerRun = (make: (count: () => void) => PbxNormalizer, chunks: Buffer[]) => async () => {
  let outputs = 0;
  const normalizer = make(() => outputs++);
  for (const chunk of chunks) normalizer.push(chunk);
  normalizer.end();
  return outputs;
};
const amiRates = await measure("AMI (Asterisk 20 captures)", ami.events, [
  {
    name: "asterisk-manager parser alone (baseline)",
    async run() {
      let seen = 0;
      const feed = asteriskManagerParser(() => seen++);
      for (const chunk of ami.chunks) feed(chunk.toString("latin1"));
      await drainTicks();
      return seen;
    },
  },
  {
    name: "callmesh AMI parser alone",
    async run() {
      let seen = 0;
      const parser = createAmiParser({ onMessage: () => seen++ });
      for (const chunk of ami.chunks) parser.push(chunk);
      parser.end();
      return seen;
    },
  },
  {
    name: "callmesh AMI parser + call tracker",
    run: normalizerRun((count) => createAmiNormalizer({ agentId: "bench", onOutput: count }), ami.chunks),
  },
]);
const baseline = amiRates.get("asterisk-manager parser alone (baseline)") ?? 1;
const normalized = amiRates.get("callmesh AMI parser + call tracker") ?? 0;
console.log(`  ratio parser + tracker / asterisk-manager parser: ${(normalized / baseline).toFixed(2)}× (target ≥ 3×)`);
console.log(`  parse + normalize: ${Math.round(normalized).toLocaleString("en")} events/s (target ≥ 150,000)`);

const esl = buildInput(
  captures("esl", "fs-real-"),
  eslCopy,
  (s) => s.match(/^Event-Name: |"Event-Name":/gm)?.length ?? 0,
  targetEslEvents,
);
const eslRates = await measure("ESL (FreeSWITCH 1.10 captures, plain and json)", esl.events, [
  {
    name: "callmesh ESL parser + call tracker",
    run: normalizerRun((count) => createEslNormalizer({ agentId: "bench", onOutput: count }), esl.chunks),
  },
]);
const eslRate = eslRates.get("callmesh ESL parser + call tracker") ?? 0;
console.log(`  ratio ESL parser + tracker / asterisk-manager AMI parser: ${(eslRate / baseline).toFixed(2)}×`);
