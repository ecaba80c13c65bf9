#!/usr/bin/env node
// The agent's command line. The sources are TypeScript, run through tsx's loader.
import { register } from "tsx/esm/api";

register();
const { runCli } = await import("../src/cli.ts");
const code = await runCli(process.argv.slice(2));
process.exitCode = code;
