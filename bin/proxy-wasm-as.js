#!/usr/bin/env node
// The `proxy-wasm-as` / `pwas` command. Runs the bundled CLI (dist/cli.mjs) when the package was
// built; in a source checkout it runs src/cli/main.ts through tsx, so no build step is needed.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bundled = join(root, "dist", "cli.mjs");

let cli;
if (existsSync(bundled)) {
  cli = await import(pathToFileURL(bundled).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  cli = await import(pathToFileURL(join(root, "src", "cli", "main.ts")).href);
}
process.exitCode = await cli.main(process.argv.slice(2));
