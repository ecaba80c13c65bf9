import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, describe, it } from "node:test";
import { setImmediate as turn } from "node:timers/promises";
import { pino } from "pino";
import { formatStateFile, openCallStateFiles } from "./call-state-file.js";

const root = mkdtempSync(join(tmpdir(), "callmesh-call-state-"));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `d${++dirs}`, "calls");
/** Changes are written within two turns of the event loop. */
const nextTurn = async () => {
  await turn();
  await turn();
};

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { logger: pino(stream), lines };
}

describe("call state files", () => {
  it("round trip: what was put is loaded by the next open; a removed call is gone", async () => {
    const dir = freshDir();
    const files = openCallStateFiles(dir);
    assert.equal(files.loaded.size, 0);
    files.put("1796125061.66", { sequence: 3, answeredUs: 1 });
    files.put("1796125061.66", { sequence: 4, answeredUs: 1 }); // the latest of the turn wins
    files.put("odd/key é", { sequence: 1 });
    files.put("1796125099.1", { sequence: 2 });
    assert.deepEqual(readdirSync(dir), [], "nothing written before the next turn");
    await nextTurn();
    files.remove("1796125099.1");
    await nextTurn();
    const again = openCallStateFiles(dir);
    assert.deepEqual(
      [...again.loaded],
      [
        ["1796125061.66", { sequence: 4, answeredUs: 1 }],
        ["odd/key é", { sequence: 1 }],
      ],
    );
    assert.deepEqual(again.unreadable, []);
    assert.ok(!readdirSync(dir).some((name) => name.endsWith(".tmp")));
  });

  it("flush() writes at once (stop)", () => {
    const dir = freshDir();
    const files = openCallStateFiles(dir);
    files.put("a", { n: 1 });
    files.flush();
    assert.deepEqual([...openCallStateFiles(dir).loaded], [["a", { n: 1 }]]);
  });

  it("a torn or corrupt file is reported with a warning, set aside, and the others load", async () => {
    const dir = freshDir();
    const files = openCallStateFiles(dir);
    files.put("good", { sequence: 2 });
    files.put("torn", { sequence: 5, answeredBy: "1001" });
    files.put("flipped", { sequence: 7 });
    await nextTurn();
    const torn = readFileSync(join(dir, "torn.call"), "utf8");
    writeFileSync(join(dir, "torn.call"), torn.slice(0, torn.length - 4));
    writeFileSync(join(dir, "flipped.call"), formatStateFile({ sequence: 7 }).replace("7", "9"));
    writeFileSync(join(dir, "headless.call"), "{}");
    writeFileSync(join(dir, "old.call"), "callmesh-call-state 0 00000000 2\n{}");
    writeFileSync(join(dir, "left.call.tmp"), "half a wri");
    const { logger, lines } = capturingLogger();

    const reopened = openCallStateFiles(dir, { logger });
    assert.deepEqual([...reopened.loaded], [["good", { sequence: 2 }]]);
    assert.deepEqual(
      reopened.unreadable.map(({ key, reason }) => [key, reason]),
      [
        ["flipped", "checksum mismatch (corrupt)"],
        ["headless", "no header line (torn)"],
        ["old", "version 0, this agent reads 1"],
        ["torn", "30 bytes of 34 (torn)"],
      ],
    );
    const warnings = lines.filter((line) => line.level === 40);
    assert.deepEqual(
      warnings.map((line) => line.pbxCallId),
      ["flipped", "headless", "old", "torn"],
    );
    assert.match(String(warnings[0]?.msg), /call state unreadable/);
    assert.ok(existsSync(join(dir, "torn.call.unreadable")), "kept for inspection");
    assert.ok(!existsSync(join(dir, "left.call.tmp")), "a cut-short write is cleaned up");
    // Not read (nor reported) again.
    const third = openCallStateFiles(dir);
    assert.deepEqual(third.unreadable, []);
    assert.equal(third.loaded.size, 1);
  });

  it("a write that fails is logged, and nothing throws", async () => {
    const dir = freshDir();
    const { logger, lines } = capturingLogger();
    const files = openCallStateFiles(dir, { logger });
    rmSync(dir, { recursive: true }); // the directory vanished under it
    files.put("a", { n: 1 });
    await nextTurn();
    assert.ok(lines.some((line) => line.level === 50 && line.pbxCallId === "a"));
  });
});
