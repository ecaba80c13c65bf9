import assert from "node:assert/strict";
import { connect, createServer, type Socket } from "node:net";
import { describe, it } from "node:test";
import { createLogger } from "@callmesh/platform/logging.js";
import { createClientConnection } from "./client-connection.js";

const logger = createLogger("pbx-sim-test", "silent");

describe("client-connection", () => {
  it("greets, runs messages one at a time in order, and ends on 'close'", async () => {
    const handled: string[] = [];
    let running = 0;
    const server = createServer((socket: Socket) => {
      createClientConnection<string>({
        socket,
        logger,
        sessionId: 1,
        peer: "test client",
        work: "test message",
        greeting: "hello\n",
        read: (chunk) => chunk.toString("utf8").split("\n").filter(Boolean),
        handle: async (message) => {
          running++;
          assert.equal(running, 1);
          await new Promise((resolve) => setTimeout(resolve, 2));
          handled.push(message);
          running--;
          return message === "bye" ? "close" : "keep";
        },
        end: () => socket.end(),
        onClose: () => undefined,
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const client = connect({ host: "127.0.0.1", port: typeof address === "object" && address ? address.port : 0 });
    let received = "";
    client.on("data", (chunk) => {
      received += chunk.toString("utf8");
    });
    client.write("one\ntwo\nbye\nignored\n");
    await new Promise((resolve) => client.once("end", resolve));
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
    assert.equal(received, "hello\n");
    assert.deepEqual(handled, ["one", "two", "bye"]);
  });
});
