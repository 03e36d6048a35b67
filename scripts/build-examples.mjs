// `npm run build`: compiles every example's release module to examples/<name>/build/<name>.wasm
// (and, with --debug, the debug module beside it) through the CLI's `build`, so each example is
// compiled with its own asconfig (extending the SDK's, as a user's project does) and checked as
// Envoy would load it. An example whose sources, SDK, compiler and flags are unchanged since its
// last build is not compiled again (the stamp beside the module, src/cli/build-stamp.ts); --force
// compiles every one. Usage: node scripts/build-examples.mjs [--debug] [--force] [name ...]
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { register } from "tsx/esm/api";
import { linkSelf, repoRoot } from "./link-self.mjs";

register();
const { buildFilter } = await import("../src/cli/commands/build.ts");

const args = process.argv.slice(2);
const withDebug = args.includes("--debug");
const force = args.includes("--force");
const unknownFlags = args.filter((a) => a.startsWith("--") && a !== "--debug" && a !== "--force");
if (unknownFlags.length > 0) {
  console.error(`unknown option ${unknownFlags.join(", ")} (known: --debug, --force)`);
  process.exit(2);
}
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

const started = performance.now();
let failed = 0;
for (const [index, name] of examples.entries()) {
  const cwd = join(examplesDir, name);
  const io = { stdout: process.stdout, stderr: process.stderr, cwd, env: process.env, stopSignal: new Promise(() => {}) };
  for (const debug of withDebug ? [false, true] : [false]) {
    const out = join("build", debug ? `${name}.debug.wasm` : `${name}.wasm`);
    const label = `${name} [${index + 1}/${examples.length}]`;
    const result = await buildFilter(io, { entry: "assembly/index.ts", config: "asconfig.json", debug, out, incremental: !force, label });
    if (result === null) {
      failed++;
      console.error(`✗ ${name}${debug ? " (debug)" : ""} failed`);
    }
  }
}
if (examples.length === 0) console.log("no examples to build");
else console.error(`${examples.length} example(s) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (failed) {
  console.error(`${failed} example build(s) failed`);
  process.exit(1);
}
