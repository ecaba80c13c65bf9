import { readFileSync } from "node:fs";

/** The agent's version, from its package.json. */
export const agentVersion: string =
  (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: string }).version ??
  "0.0.0";
