import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "@callmesh/platform/config.js";
import { parseCdrServiceConfig } from "./config.js";

describe("cdr-service config", () => {
  it("stays on the embedded store unless MONGODB_URL is set", () => {
    const config = parseCdrServiceConfig({ MONGODB_URL: "" });
    assert.equal(config.MONGODB_URL, undefined);
    assert.equal(config.MONGODB_DATABASE, "callmesh");
    assert.equal(config.MONGODB_READ_PREFERENCE, "secondaryPreferred");
  });

  it("takes the driver's read preference modes and names the variable when one is not", () => {
    const env = { MONGODB_URL: "mongodb://127.0.0.1:57017", MONGODB_READ_PREFERENCE: "nearest" };
    assert.equal(parseCdrServiceConfig(env).MONGODB_READ_PREFERENCE, "nearest");
    assert.throws(
      () => parseCdrServiceConfig({ ...env, MONGODB_READ_PREFERENCE: "secondary_preferred" }),
      (error: unknown) => error instanceof ConfigError && /MONGODB_READ_PREFERENCE: /.test(error.message),
    );
  });
});
