import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "@callmesh/platform/logging.js";
import { blockValue } from "./ami/ami-block.js";
import { connectAmiTestClient } from "./ami/ami-test-client.js";
import { parsePbxSimConfig } from "./config.js";
import { frameHeader } from "./esl/esl-capture-file.js";
import { connectEslTestClient, frameEvent } from "./esl/esl-test-client.js";
import { startPbxSim } from "./main.js";

const logger = createLogger("pbx-sim-test", "silent");

describe("pbx-sim main", () => {
  it("boots on port 0 with its call loop and stops cleanly", { timeout: 5000 }, async () => {
    const config = parsePbxSimConfig({ AMI_SIM_PORT: "0", AMI_SIM_TIME_SCALE: "0", AMI_SIM_CALL_INTERVAL_MS: "50" });
    const running = await startPbxSim(config, { logger });
    assert.equal(running.eslPort, undefined);
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

  it("serves the event socket too when PBX_SIM_PROTOCOLS says so, with its own calls", { timeout: 5000 }, async () => {
    const config = parsePbxSimConfig({
      PBX_SIM_PROTOCOLS: "ami,esl",
      AMI_SIM_PORT: "0",
      ESL_SIM_PORT: "0",
      ESL_SIM_PASSWORD: "pw",
      ESL_SIM_TIME_SCALE: "0",
      ESL_SIM_CALL_INTERVAL_MS: "50",
    });
    const running = await startPbxSim(config, { logger });
    assert.equal(running.port, running.amiPort);
    assert.ok(running.eslPort !== undefined && running.eslPort !== running.amiPort);
    const client = await connectEslTestClient(running.eslPort ?? 0);
    await client.command("auth pw");
    await client.command("event plain CHANNEL_HANGUP_COMPLETE");
    const hangup = await client.waitFor((frame) => frameEvent(frame) !== undefined);
    assert.equal(frameHeader(hangup, "Content-Type"), "text/event-plain");
    await running.stop();
    await client.closed;
  });
});
