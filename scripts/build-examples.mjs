// `npm run build`: compiles every example's release module to examples/<name>/build/<name>.wasm
// (and, with --debug, the debug module beside it) through the CLI's `build`, so each example is
// compiled with its own asconfig (extending the SDK's, as a user's project does) and checked as
// Envoy would load it. Usage: node scripts/build-examples.mjs [--debug] [name ...]
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { register } from "tsx/esm/api";
import { linkSelf, repoRoot } from "./link-self.mjs";

register();
const { buildFilter } = await import("../src/cli/commands/build.ts");

const args = process.argv.slice(2);
const withDebug = args.includes("--debug");
const only = args.filter((a) => !a.startsWith("--"));
const examplesDir = join(repoRoot, "examples");

linkSelf();

const examples = readdirSync(examplesDir)
  .filter((name) => existsSync(join(examplesDir, name, "asconfig.json")))
  .filter((name) => only.length === 0 || only.includes(name))
  .sort();
const unknown = only.filter((name) => !examples.includes(name));
if (unknown.length > 0) {
  console.error(`no such example: ${unknown.join(", ")}`);
  process.exit(2);
}

let failed = 0;
for (const name of examples) {
  const cwd = join(examplesDir, name);
  const io = { stdout: process.stdout, stderr: process.stderr, cwd, env: process.env, stopSignal: new Promise(() => {}) };
  for (const debug of withDebug ? [false, true] : [false]) {
    const out = join("build", debug ? `${name}.debug.wasm` : `${name}.wasm`);
    const result = await buildFilter(io, { entry: "assembly/index.ts", config: "asconfig.json", debug, out });
    if (result === null) {
      failed++;
      console.error(`✗ ${name}${debug ? " (debug)" : ""} failed`);
    }
  }
}
if (examples.length === 0) console.log("no examples to build");
if (failed) {
  console.error(`${failed} example build(s) failed`);
  process.exit(1);
}
