// gen/ is committed so that services build without buf; this fails when it no longer
// matches what `npm run generate` makes from proto/.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.set(relative(dir, path), readFileSync(path, "utf8"));
    }
  };
  walk(dir);
  return out;
}

it("gen/src is what buf generate makes from proto/", () => {
  const out = mkdtempSync(join(tmpdir(), "callmesh-gen-"));
  try {
    execFileSync(join(root, "node_modules/.bin/buf"), ["generate", "--output", out], {
      cwd: root,
      env: { ...process.env, PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH}` },
      stdio: "pipe",
    });
    const fresh = files(join(out, "gen/src"));
    const committed = files(join(root, "gen/src"));
    assert.deepEqual([...committed.keys()].sort(), [...fresh.keys()].sort(), "files differ: run npm run generate");
    for (const [path, text] of fresh) assert.equal(committed.get(path), text, `${path} is stale: run npm run generate`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
