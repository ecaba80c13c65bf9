import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, optionalVar, parseConfig, portVar, z } from "./config.js";

const schema = z.object({
  PORT: portVar(3000).describe("port to listen on"),
  URL: optionalVar().describe("server URL"),
  NAME: z.string().min(1).describe("a name"),
});

describe("parseConfig", () => {
  it("applies defaults and treats empty optional vars as unset", () => {
    assert.deepEqual(parseConfig(schema, { NAME: "a", URL: "" }), { PORT: 3000, URL: undefined, NAME: "a" });
    assert.equal(parseConfig(schema, { NAME: "a", PORT: "0" }).PORT, 0);
  });

  it("names every bad variable, with its doc", () => {
    assert.throws(
      () => parseConfig(schema, { PORT: "70000" }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /PORT: .*\(port to listen on\)/.test(error.message) &&
        /NAME: .*\(a name\)/.test(error.message),
    );
  });
});
