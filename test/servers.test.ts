// The real servers that scripts/test.sh starts (scripts/servers): each answers on the URL of its
// env var in its own protocol. Run outside npm test: env $(npm run -s servers:env) node --import tsx --test …
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { Kafka, logLevel } from "kafkajs";
import { MongoClient } from "mongodb";
import pg from "pg";

const TIMEOUT_MS = 20_000;

function env(name: string): string {
  const value = process.env[name];
  assert.ok(
    value,
    `${name} is not set: run the tests with npm test (it starts the servers) or env $(npm run -s servers:env) …`,
  );
  return value;
}

describe("real servers (scripts/servers)", { timeout: 4 * TIMEOUT_MS }, () => {
  it("PostgreSQL answers select 1 on DATABASE_URL", { timeout: TIMEOUT_MS }, async () => {
    const client = new pg.Client({ connectionString: env("DATABASE_URL"), connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      const result = await client.query<{ one: number }>("select 1 as one");
      assert.equal(result.rows[0]?.one, 1);
    } finally {
      await client.end();
    }
  });

  it("Kafka describes its cluster on KAFKA_BROKERS", { timeout: TIMEOUT_MS }, async () => {
    const kafka = new Kafka({
      clientId: "callmesh-servers-test",
      brokers: env("KAFKA_BROKERS").split(","),
      connectionTimeout: 5_000,
      requestTimeout: 10_000,
      retry: { retries: 2 },
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      assert.equal(cluster.brokers.length, 1);
      assert.ok(cluster.controller !== null, "the KRaft cluster has no active controller");
    } finally {
      await admin.disconnect();
    }
  });

  it("the MongoDB-wire server answers ping on MONGODB_URL", { timeout: TIMEOUT_MS }, async () => {
    const client = new MongoClient(env("MONGODB_URL"), { serverSelectionTimeoutMS: 5_000, connectTimeoutMS: 5_000 });
    await client.connect();
    try {
      const reply = await client.db().command({ ping: 1 });
      assert.equal(reply.ok, 1);
    } finally {
      await client.close();
    }
  });

  it("S3 serves HeadBucket S3_BUCKET on S3_ENDPOINT with the credentials", { timeout: TIMEOUT_MS }, async () => {
    const s3 = new S3Client({
      endpoint: env("S3_ENDPOINT"),
      region: env("S3_REGION"),
      forcePathStyle: env("S3_FORCE_PATH_STYLE") === "true",
      credentials: { accessKeyId: env("S3_ACCESS_KEY_ID"), secretAccessKey: env("S3_SECRET_ACCESS_KEY") },
      maxAttempts: 2,
    });
    try {
      const out = await s3.send(new HeadBucketCommand({ Bucket: env("S3_BUCKET") }), {
        abortSignal: AbortSignal.timeout(10_000),
      });
      assert.equal(out.$metadata.httpStatusCode, 200);
    } finally {
      s3.destroy();
    }
  });
});
