import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "@callmesh/platform/logging.js";
import { blockValue } from "./ami/ami-block.js";
import { connectAmiTestClient } from "./ami/ami-test-client.js";
import { parsePbxSimConfig } from "./config.js";
import { startPbxSim } from "./main.js";

describe("pbx-sim main", () => {
  it("boots on port 0 with its call loop and stops cleanly", { timeout: 5000 }, async () => {
    const config = parsePbxSimConfig({ AMI_SIM_PORT: "0", AMI_SIM_TIME_SCALE: "0", AMI_SIM_CALL_INTERVAL_MS: "50" });
    const running = await startPbxSim(config, { logger: createLogger("pbx-sim-test", "silent") });
    const client = await connectAmiTestClient(running.port);
    client.sendAction([
      ["Action", "Login"],
      ["ActionID", "1"],
      ["Username", "callmesh"],
      ["Secret", "callmesh"],
    ]);
    await client.waitFor((block) => blockValue(block, "Event") === "Cdr");
    await running.stop();
    await client.closed;
    assert.ok(client.blocks.length > 10);
  });
});
