import { readFileSync } from "node:fs";

const FIXTURES = new URL("./fixtures/", import.meta.url);

/**
 * The raw socket bytes of a capture in fixtures/: the file minus its leading `#` header
 * lines (`# source:` and friends), which describe the capture and were never on the wire.
 */
export function readCapture(name: string): Buffer {
  const file = readFileSync(new URL(name, FIXTURES));
  let start = 0;
  while (file[start] === 0x23) {
    const newline = file.indexOf(0x0a, start);
    if (newline < 0) return file.subarray(file.length);
    start = newline + 1;
  }
  return file.subarray(start);
}

export function readFixtureJson(name: string): unknown {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), "utf8"));
}

export { randomChunks } from "../random-chunks.js";
