import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePbxSimConfig } from "./config.js";

describe("pbx-sim config", () => {
  it("has defaults for everything: the AMI simulator alone, as before", () => {
    assert.deepEqual(parsePbxSimConfig({}), {
      PBX_SIM_PROTOCOLS: ["ami"],
      AMI_SIM_HOST: "127.0.0.1",
      AMI_SIM_PORT: 5038,
      AMI_SIM_USERNAME: "callmesh",
      AMI_SIM_SECRET: "callmesh",
      AMI_SIM_TIME_SCALE: 1,
      AMI_SIM_CALL_INTERVAL_MS: 0,
      ESL_SIM_HOST: "127.0.0.1",
      ESL_SIM_PORT: 8021,
      ESL_SIM_PASSWORD: "ClueCon",
      ESL_SIM_TIME_SCALE: 1,
      ESL_SIM_CALL_INTERVAL_MS: 0,
      ESL_SIM_HEARTBEAT_MS: 20_000,
    });
    assert.equal(parsePbxSimConfig({ AMI_SIM_TIME_SCALE: "" }).AMI_SIM_TIME_SCALE, 1);
    assert.equal(parsePbxSimConfig({ AMI_SIM_TIME_SCALE: "0.05", AMI_SIM_PORT: "0" }).AMI_SIM_TIME_SCALE, 0.05);
    assert.deepEqual(parsePbxSimConfig({ PBX_SIM_PROTOCOLS: "" }).PBX_SIM_PROTOCOLS, ["ami"]);
    assert.deepEqual(parsePbxSimConfig({ PBX_SIM_PROTOCOLS: " ESL, ami,esl" }).PBX_SIM_PROTOCOLS, ["esl", "ami"]);
  });

  it("names every bad variable", () => {
    assert.throws(
      () =>
        parsePbxSimConfig({
          AMI_SIM_TIME_SCALE: "fast",
          AMI_SIM_PORT: "70000",
          AMI_SIM_CALL_INTERVAL_MS: "-1",
          PBX_SIM_PROTOCOLS: "ami,sip",
          ESL_SIM_PORT: "-2",
          ESL_SIM_HEARTBEAT_MS: "often",
        }),
      (error: Error) =>
        [
          "AMI_SIM_TIME_SCALE",
          "AMI_SIM_PORT",
          "AMI_SIM_CALL_INTERVAL_MS",
          "PBX_SIM_PROTOCOLS",
          "ESL_SIM_PORT",
          "ESL_SIM_HEARTBEAT_MS",
        ].every((key) => error.message.includes(key)),
    );
  });
});
