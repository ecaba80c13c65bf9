import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePbxSimConfig } from "./config.js";

describe("pbx-sim config", () => {
  it("has defaults for everything", () => {
    assert.deepEqual(parsePbxSimConfig({}), {
      AMI_SIM_HOST: "127.0.0.1",
      AMI_SIM_PORT: 5038,
      AMI_SIM_USERNAME: "callmesh",
      AMI_SIM_SECRET: "callmesh",
      AMI_SIM_TIME_SCALE: 1,
      AMI_SIM_CALL_INTERVAL_MS: 0,
    });
    assert.equal(parsePbxSimConfig({ AMI_SIM_TIME_SCALE: "" }).AMI_SIM_TIME_SCALE, 1);
    assert.equal(parsePbxSimConfig({ AMI_SIM_TIME_SCALE: "0.05", AMI_SIM_PORT: "0" }).AMI_SIM_TIME_SCALE, 0.05);
  });

  it("names every bad variable", () => {
    assert.throws(
      () => parsePbxSimConfig({ AMI_SIM_TIME_SCALE: "fast", AMI_SIM_PORT: "70000", AMI_SIM_CALL_INTERVAL_MS: "-1" }),
      (error: Error) =>
        /AMI_SIM_TIME_SCALE/.test(error.message) &&
        /AMI_SIM_PORT/.test(error.message) &&
        /AMI_SIM_CALL_INTERVAL_MS/.test(error.message),
    );
  });
});
