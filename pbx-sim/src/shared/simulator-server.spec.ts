import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, it } from "node:test";
import { createLogger } from "@callmesh/platform/logging.js";
import { createSimulatorServer } from "./simulator-server.js";

const logger = createLogger("pbx-sim-test", "silent");

describe("simulator-server", () => {
  it("keeps sessions while their socket is open and waits for tracked work on close", async () => {
    const server = createSimulatorServer({
      protocol: "TEST",
      logger,
      accept: (socket, id) => ({ id, remoteAddress: String(socket.remotePort) }),
    });
    const port = await server.listen("127.0.0.1", 0);
    const client = connect({ host: "127.0.0.1", port });
    const clientClosed = new Promise((resolve) => client.once("close", resolve));
    client.on("error", () => undefined);
    while (server.sessions.size === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(
      [...server.sessions].map((session) => session.id),
      [1],
    );

    let finished = false;
    server.track(
      new Promise<void>((resolve) =>
        server.signal.addEventListener("abort", () =>
          setTimeout(() => {
            finished = true;
            resolve();
          }, 20),
        ),
      ),
    );
    const closing = server.close();
    assert.equal(server.close(), closing);
    await closing;
    assert.ok(finished);
    await clientClosed;
    assert.equal(server.sessions.size, 0);
  });
});
