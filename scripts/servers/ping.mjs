// Protocol-level health checks for scripts/servers (plain Node, no dependencies), each bounded in time:
//   node ping.mjs kafka HOST PORT                               Kafka ApiVersions v0 answered with no error
//   node ping.mjs mongo HOST PORT                               MongoDB OP_MSG `hello` answered with ok: 1
//   node ping.mjs s3 ENDPOINT BUCKET KEY_ID SECRET [REGION]     SigV4-signed HeadBucket answered 200
// Exit 0 when healthy; else 1 with the reason on stderr.
import { createHash, createHmac } from "node:crypto";
import net from "node:net";

const TIMEOUT_MS = Number(process.env.CALLMESH_PING_TIMEOUT_MS ?? 3000);

/** Sends one request frame and resolves with the first complete length-prefixed response frame. */
function exchange(host, port, frame, frameLength) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port: Number(port) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer from ${host}:${port} within ${TIMEOUT_MS} ms`));
    }, TIMEOUT_MS);
    let buffer = Buffer.alloc(0);
    socket.on("connect", () => socket.write(frame));
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const length = frameLength(buffer);
      if (length !== undefined && buffer.length >= length) {
        clearTimeout(timer);
        socket.destroy();
        resolve(buffer.subarray(0, length));
      }
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      reject(new Error(`${host}:${port} closed the connection`));
    });
  });
}

async function kafka(host, port) {
  const clientId = Buffer.from("callmesh-ping");
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  body.writeInt16BE(18, 0); // ApiVersions
  body.writeInt16BE(0, 2); // v0: every broker answers it
  body.writeInt32BE(7, 4); // correlation id
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  const response = await exchange(host, port, Buffer.concat([size, body]), (b) =>
    b.length >= 4 ? 4 + b.readInt32BE(0) : undefined,
  );
  const correlationId = response.readInt32BE(4);
  const errorCode = response.readInt16BE(8);
  const apis = response.readInt32BE(10);
  if (correlationId !== 7) throw new Error(`Kafka answered correlation id ${correlationId}`);
  if (errorCode !== 0) throw new Error(`Kafka ApiVersions error code ${errorCode}`);
  return `Kafka ApiVersions: ${apis} APIs`;
}

function cstring(s) {
  return Buffer.concat([Buffer.from(s, "utf8"), Buffer.from([0])]);
}
function bsonDocument(fields) {
  const parts = [];
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === "number") {
      const v = Buffer.alloc(4);
      v.writeInt32LE(value);
      parts.push(Buffer.from([0x10]), cstring(name), v);
    } else {
      const s = cstring(String(value));
      const len = Buffer.alloc(4);
      len.writeInt32LE(s.length);
      parts.push(Buffer.from([0x02]), cstring(name), len, s);
    }
  }
  const content = Buffer.concat([...parts, Buffer.from([0])]);
  const len = Buffer.alloc(4);
  len.writeInt32LE(content.length + 4);
  return Buffer.concat([len, content]);
}
/** Reads the top-level scalar fields of a BSON document (enough for a hello reply). */
function bsonScalars(doc) {
  const out = {};
  let i = 4;
  const end = doc.readInt32LE(0) - 1;
  while (i < end) {
    const type = doc[i++];
    const nameEnd = doc.indexOf(0, i);
    const name = doc.toString("utf8", i, nameEnd);
    i = nameEnd + 1;
    switch (type) {
      case 0x01:
        out[name] = doc.readDoubleLE(i);
        i += 8;
        break;
      case 0x02: {
        const len = doc.readInt32LE(i);
        out[name] = doc.toString("utf8", i + 4, i + 4 + len - 1);
        i += 4 + len;
        break;
      }
      case 0x03:
      case 0x04:
        i += doc.readInt32LE(i);
        break;
      case 0x05:
        i += 4 + 1 + doc.readInt32LE(i);
        break;
      case 0x07:
        i += 12;
        break;
      case 0x08:
        out[name] = doc[i] === 1;
        i += 1;
        break;
      case 0x0a:
        out[name] = null;
        break;
      case 0x10:
        out[name] = doc.readInt32LE(i);
        i += 4;
        break;
      case 0x09:
      case 0x11:
      case 0x12:
        i += 8;
        break;
      default:
        return out; // a type a hello reply does not use at top level: stop reading
    }
  }
  return out;
}

async function mongo(host, port) {
  const doc = bsonDocument({ hello: 1, $db: "admin" });
  const header = Buffer.alloc(16 + 4 + 1);
  header.writeInt32LE(header.length + doc.length, 0);
  header.writeInt32LE(1, 4); // request id
  header.writeInt32LE(0, 8); // response to
  header.writeInt32LE(2013, 12); // OP_MSG
  header.writeUInt32LE(0, 16); // flag bits
  header[20] = 0; // section kind 0: body
  const response = await exchange(host, port, Buffer.concat([header, doc]), (b) =>
    b.length >= 4 ? b.readInt32LE(0) : undefined,
  );
  if (response.readInt32LE(12) !== 2013) throw new Error(`MongoDB answered opcode ${response.readInt32LE(12)}`);
  const reply = bsonScalars(response.subarray(21));
  if (reply.ok !== 1) throw new Error(`MongoDB hello: ${JSON.stringify(reply)}`);
  return `MongoDB hello: ok, maxWireVersion ${reply.maxWireVersion}, isWritablePrimary ${reply.isWritablePrimary}`;
}

async function s3(endpoint, bucket, keyId, secret, region = "us-east-1") {
  const url = new URL(`/${bucket}`, endpoint);
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const payloadHash = createHash("sha256").update("").digest("hex");
  const signed = "host;x-amz-content-sha256;x-amz-date";
  const canonical = [
    "HEAD",
    url.pathname,
    "",
    `host:${url.host}`,
    `x-amz-content-sha256:${payloadHash}`,
    `x-amz-date:${amzDate}`,
    "",
    signed,
    payloadHash,
  ].join("\n");
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, createHash("sha256").update(canonical).digest("hex")].join("\n");
  const hmac = (key, data) => createHmac("sha256", key).update(data).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), "s3"), "aws4_request");
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  const response = await fetch(url, {
    method: "HEAD",
    headers: {
      "x-amz-content-sha256": payloadHash,
      "x-amz-date": amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${keyId}/${scope}, SignedHeaders=${signed}, Signature=${signature}`,
    },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (response.status !== 200) throw new Error(`S3 HeadBucket ${bucket}: HTTP ${response.status}`);
  return `S3 HeadBucket ${bucket}: 200`;
}

const checks = { kafka, mongo, s3 };
const [what, ...args] = process.argv.slice(2);
if (!checks[what]) {
  console.error(`usage: node ping.mjs kafka|mongo|s3 …`);
  process.exit(2);
}
try {
  console.log(await checks[what](...args));
} catch (error) {
  console.error(`${what}: ${error.message}`);
  process.exit(1);
}
