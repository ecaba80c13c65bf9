import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { ConfigError } from "@callmesh/platform/config.js";
import { parseAgentConfig } from "./config.js";

const base = { CALLMESH_AGENT_TOKEN: "token" };

describe("agent config", () => {
  it("defaults to Asterisk with the driver's own trunk rules", () => {
    const config = parseAgentConfig({ ...base, AMI_SECRET: "s" });
    assert.equal(config.PBX_KIND, "asterisk");
    assert.equal(config.PBX_TRUNK_CONTEXTS, undefined);
    assert.equal(config.PBX_EXTENSION_PATTERN, undefined);
    assert.equal(config.CALLMESH_AGENT_OPS_PORT, 9464);
  });

  it("reads trunk rules as comma lists and the extension pattern as a regular expression", () => {
    const config = parseAgentConfig({
      ...base,
      PBX_KIND: "freeswitch",
      ESL_PASSWORD: "ClueCon",
      PBX_TRUNK_CONTEXTS: "public, from-carrier-* ,",
      PBX_TRUNK_GATEWAYS: "provider",
      PBX_EXTENSION_PATTERN: "^1\\d{3}$",
    });
    assert.deepEqual(config.PBX_TRUNK_CONTEXTS, ["public", "from-carrier-*"]);
    assert.deepEqual(config.PBX_TRUNK_GATEWAYS, ["provider"]);
    assert.ok(config.PBX_EXTENSION_PATTERN?.test("1001"));
    assert.equal(config.PBX_EXTENSION_PATTERN?.test("200"), false);
  });

  it("names each bad field: the PBX's secret, an unknown PBX, a pattern that does not compile", () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /AMI_SECRET: required when PBX_KIND is asterisk/],
      [{ PBX_KIND: "freeswitch" }, /ESL_PASSWORD: required when PBX_KIND is freeswitch/],
      [{ PBX_KIND: "3cx", AMI_SECRET: "s" }, /PBX_KIND: .*asterisk.*freeswitch/],
      [{ AMI_SECRET: "s", PBX_EXTENSION_PATTERN: "(" }, /PBX_EXTENSION_PATTERN: not a regular expression/],
      [{ AMI_SECRET: "s", ESL_PORT: "80000" }, /ESL_PORT:/],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => parseAgentConfig({ ...base, ...env }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, message);
          return true;
        },
      );
    }
  });
});

describe("agent config file (CALLMESH_AGENT_CONFIG)", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "agent-config-"));
    file = join(dir, "agent.json");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (settings: unknown) => writeFileSync(file, JSON.stringify(settings));
  const rejects = (env: Record<string, string>, message: RegExp) =>
    assert.throws(
      () => parseAgentConfig({ CALLMESH_AGENT_CONFIG: file, ...env }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.match(error.message, message);
        return true;
      },
    );

  it("reads every setting from the file, with the env var names as keys", () => {
    write({
      CALLMESH_AGENT_TOKEN: "from-file",
      CALLMESH_GATEWAY_URL: "http://gateway.internal:3000",
      PBX_KIND: "freeswitch",
      ESL_PASSWORD: "ClueCon",
      ESL_PORT: 8022,
      CALLMESH_SPOOL_DIR: "/var/spool/callmesh",
      CALLMESH_SPOOL_LIMIT_BYTES: "256MiB",
      CALLMESH_SPOOL_ALERT_PERCENT: 70,
      PBX_TRUNK_GATEWAYS: ["provider", "backup"],
      PBX_TRUNK_CONTEXTS: "public",
    });
    const config = parseAgentConfig({ CALLMESH_AGENT_CONFIG: file, PATH: "/usr/bin" });
    assert.equal(config.CALLMESH_AGENT_TOKEN, "from-file");
    assert.equal(config.CALLMESH_GATEWAY_URL, "http://gateway.internal:3000");
    assert.equal(config.PBX_KIND, "freeswitch");
    assert.equal(config.ESL_PORT, 8022);
    assert.equal(config.CALLMESH_SPOOL_DIR, "/var/spool/callmesh");
    assert.equal(config.CALLMESH_SPOOL_LIMIT_BYTES, 256 * 1024 * 1024);
    assert.equal(config.CALLMESH_SPOOL_ALERT_PERCENT, 70);
    assert.deepEqual(config.PBX_TRUNK_GATEWAYS, ["provider", "backup"]);
    assert.deepEqual(config.PBX_TRUNK_CONTEXTS, ["public"]);
    assert.equal(config.CALLMESH_HEARTBEAT_MS, 15_000, "what neither sets keeps its default");
  });

  it("lets the environment override the file; an empty variable does not", () => {
    write({
      CALLMESH_AGENT_TOKEN: "from-file",
      AMI_SECRET: "file-secret",
      AMI_HOST: "pbx-a",
      CALLMESH_HEARTBEAT_MS: 5000,
    });
    const config = parseAgentConfig({
      CALLMESH_AGENT_CONFIG: file,
      AMI_HOST: "pbx-b",
      CALLMESH_HEARTBEAT_MS: "1000",
      AMI_SECRET: "",
    });
    assert.equal(config.AMI_HOST, "pbx-b");
    assert.equal(config.CALLMESH_HEARTBEAT_MS, 1000);
    assert.equal(config.AMI_SECRET, "file-secret");
    assert.equal(config.CALLMESH_AGENT_TOKEN, "from-file");
  });

  it("names an unknown key and the file", () => {
    write({ CALLMESH_AGENT_TOKEN: "t", AMI_SECRET: "s", AMI_HOTS: "pbx", CALLMESH_AGENT_CONFIG: "/other.json" });
    rejects({}, new RegExp(`AMI_HOTS \\(in ${literal(file)}\\): unknown setting`));
    rejects({}, new RegExp(`CALLMESH_AGENT_CONFIG \\(in ${literal(file)}\\): unknown setting`));
  });

  it("names a bad value, the key and where it came from", () => {
    write({ CALLMESH_AGENT_TOKEN: "t", AMI_SECRET: "s", CALLMESH_HEARTBEAT_MS: 5, CALLMESH_SPOOL_LIMIT_BYTES: "lots" });
    rejects({}, new RegExp(`CALLMESH_HEARTBEAT_MS \\(in ${literal(file)}\\): .*>=100`));
    rejects({}, new RegExp(`CALLMESH_SPOOL_LIMIT_BYTES \\(in ${literal(file)}\\): expected a size`));
    rejects({ CALLMESH_HEARTBEAT_MS: "soon" }, /CALLMESH_HEARTBEAT_MS \(from the environment\): /);
    write({ CALLMESH_AGENT_TOKEN: "t", AMI_SECRET: { value: "s3cret" }, AMI_PORT: [5038] });
    rejects(
      {},
      new RegExp(`AMI_SECRET \\(in ${literal(file)}\\): expected a string, number or boolean, got an object`),
    );
    rejects({}, /AMI_PORT .*got a list/);
    assert.throws(
      () => parseAgentConfig({ CALLMESH_AGENT_CONFIG: file }),
      (error: Error) => !error.message.includes("s3cret"),
      "a secret is never echoed",
    );
  });

  it("says why a file cannot be used: missing, unreadable, not JSON, not an object", () => {
    rejects({}, new RegExp(`CALLMESH_AGENT_CONFIG: cannot read ${literal(file)}: ENOENT`));
    rejects({ CALLMESH_AGENT_CONFIG: dir }, /CALLMESH_AGENT_CONFIG: cannot read .*EISDIR/);
    writeFileSync(file, "{ CALLMESH_AGENT_TOKEN: t }");
    rejects({}, new RegExp(`CALLMESH_AGENT_CONFIG: ${literal(file)} is not JSON`));
    write(["CALLMESH_AGENT_TOKEN=t"]);
    rejects({}, /must hold one JSON object of settings/);
  });

  it("checks the spool limits in env too", () => {
    const config = parseAgentConfig({ ...base, AMI_SECRET: "s" });
    assert.equal(config.CALLMESH_SPOOL_LIMIT_BYTES, 1024 ** 3);
    assert.equal(config.CALLMESH_SPOOL_ALERT_PERCENT, 80);
    assert.equal(
      parseAgentConfig({ ...base, AMI_SECRET: "s", CALLMESH_SPOOL_LIMIT_BYTES: "65536" }).CALLMESH_SPOOL_LIMIT_BYTES,
      65536,
    );
    assert.throws(
      () => parseAgentConfig({ ...base, AMI_SECRET: "s", CALLMESH_SPOOL_LIMIT_BYTES: "1KiB" }),
      /CALLMESH_SPOOL_LIMIT_BYTES: expected a size of at least 65536/,
    );
    assert.throws(
      () => parseAgentConfig({ ...base, AMI_SECRET: "s", CALLMESH_SPOOL_ALERT_PERCENT: "100" }),
      /CALLMESH_SPOOL_ALERT_PERCENT:/,
    );
  });
});

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
