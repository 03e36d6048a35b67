// `npm run build`: compiles every example's release module to examples/<name>/build/<name>.wasm
// (and, with --debug, the debug module beside it), with the same asconfig a user's project uses.
// Usage: node scripts/build-examples.mjs [--debug] [name ...]
import asc from "assemblyscript/asc";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { linkSelf, repoRoot } from "./link-self.mjs";

const args = process.argv.slice(2);
const withDebug = args.includes("--debug");
const only = args.filter((a) => !a.startsWith("--"));
const examplesDir = join(repoRoot, "examples");

linkSelf();

const examples = readdirSync(examplesDir)
  .filter((name) => existsSync(join(examplesDir, name, "asconfig.json")))
  .filter((name) => only.length === 0 || only.includes(name))
  .sort();

let failed = 0;
for (const name of examples) {
  const dir = join(examplesDir, name);
  for (const target of withDebug ? ["release", "debug"] : ["release"]) {
    const started = Date.now();
    const stderr = [];
    const { error } = await asc.main(
      ["--config", join(dir, "asconfig.json"), "--target", target, "--baseDir", dir],
      { stdout: process.stdout, stderr: { write: (chunk) => { stderr.push(String(chunk)); return true; } } },
    );
    if (error) {
      failed++;
      process.stderr.write(stderr.join(""));
      console.error(`✗ ${name} (${target}): ${error.message}`);
      continue;
    }
    const out = join(dir, "build", target === "release" ? `${name}.wasm` : `${name}.debug.wasm`);
    const size = existsSync(out) ? statSync(out).size : NaN;
    console.log(`✓ ${relative(repoRoot, out)}  ${size} bytes  (${Date.now() - started} ms)`);
  }
}
if (examples.length === 0) console.log("no examples to build");
if (failed) {
  console.error(`${failed} example build(s) failed`);
  process.exit(1);
}
