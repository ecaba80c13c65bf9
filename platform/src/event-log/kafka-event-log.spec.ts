import { randomUUID } from "node:crypto";
import { createLogger } from "../logging.js";
import { describeEventLogContract } from "./event-log.contract.js";
import { createKafkaEventLog } from "./kafka-event-log.js";

const brokers = process.env.KAFKA_BROKERS;
if (!brokers) {
  throw new Error(
    "KAFKA_BROKERS is not set: run the tests with `npm test` (it starts Kafka) or `npm run servers:start`",
  );
}

describeEventLogContract("Kafka", async () => {
  const log = await createKafkaEventLog({
    brokers: brokers.split(","),
    clientId: "contract-test",
    logger: createLogger("test", "silent"),
    partitions: 3,
    topicPrefix: `test-${randomUUID().slice(0, 8)}.`,
  });
  return { log, close: () => log.close() };
});
