import assert from "node:assert/strict";
import { describe, it } from "node:test";
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
