// `npm test`: builds the examples, runs every suite (as-pect specs of the SDK and of the examples,
// then the Node tests of the host, test kit, proxy, CLI and examples) and ends with one line:
// `N passed, N failed`.
// Usage: node scripts/test.mjs [--no-build] [--only=aspect|node] [node test files ...]
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, existsSync } from "node:fs";
import { tmpdir, availableParallelism } from "node:os";
import { join, relative } from "node:path";
import { register } from "tsx/esm/api";
import { repoRoot } from "./link-self.mjs";

const args = process.argv.slice(2);
const skipBuild = args.includes("--no-build");
const only = args.find((a) => a.startsWith("--only="))?.slice("--only=".length);
const explicitFiles = args.filter((a) => !a.startsWith("--"));

/** Runs a command with inherited stdio. */
function run(command, commandArgs) {
  return new Promise((resolvePromise) => {
    const child = spawn(command, commandArgs, {
      cwd: repoRoot,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? "0" },
    });
    child.on("close", (code, signal) => resolvePromise({ code: code ?? (signal ? 1 : 0) }));
  });
}

const stripAnsi = (text) => text.replace(/\u001b\[[0-9;]*m/g, "");

function findFiles(dir, predicate) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map((entry) => join(dir, String(entry)))
    .filter((path) => !path.includes("node_modules") && !path.includes(`${join("build", "")}`) && predicate(path) && statSync(path).isFile())
    .sort();
}

let passed = 0;
let failed = 0;
let skipped = 0;

if (!skipBuild && only !== "aspect") {
  const build = await run(process.execPath, [join(repoRoot, "scripts", "build-examples.mjs")]);
  if (build.code !== 0) { failed++; console.error("example build failed (counted as one failure)"); }
}

if (only !== "node" && explicitFiles.length === 0) {
  // The SDK's own specs (assembly/__tests__, each spec module hosted as the filter in the project's host), then
  // the examples' specs (examples/*/assembly/__tests__, each driving its built example through the
  // host). as-pect runs without its logo, and with colour only on a terminal.
  register();
  const { runAspectProcess } = await import("../src/cli/aspect-process.ts");
  const suites = [
    { config: "as-pect.config.js", specs: findFiles(join(repoRoot, "assembly", "__tests__"), (p) => p.endsWith(".spec.ts")) },
    { config: "examples/as-pect.config.js", specs: findFiles(join(repoRoot, "examples"), (p) => p.endsWith(".spec.ts") && p.includes(join("assembly", "__tests__", ""))) },
  ];
  for (const suite of suites) {
    if (suite.specs.length === 0) continue;
    const aspect = await runAspectProcess({ cwd: repoRoot, config: suite.config, env: process.env, stdout: process.stdout, stderr: process.stderr });
    let specFailures = 0;
    // as-pect's summary closes with "[Tests]: <passed> / <total>".
    for (const match of stripAnsi(aspect.stdout).matchAll(/\[Tests\]:\s*(\d+)\s*\/\s*(\d+)/g)) {
      passed += Number(match[1]);
      specFailures += Number(match[2]) - Number(match[1]);
    }
    // A spec file that does not compile reports no summary; its non-zero exit still counts.
    if (aspect.code !== 0 && specFailures === 0) { specFailures = 1; console.error(`as-pect (${suite.config}) failed outside a test (counted as one failure)`); }
    failed += specFailures;
  }
}

if (only !== "aspect") {
  const files = explicitFiles.length > 0 ? explicitFiles : [
    ...findFiles(join(repoRoot, "tests"), (p) => p.endsWith(".test.ts")),
    ...findFiles(join(repoRoot, "examples"), (p) => p.endsWith(".test.ts") && p.includes(`${join("test", "")}`)),
  ].map((p) => relative(repoRoot, p));
  if (files.length > 0) {
    const tapDir = mkdtempSync(join(tmpdir(), "pwas-test-"));
    const tapFile = join(tapDir, "node.tap");
    const result = await run(process.execPath, [
      "--conditions=proxy-wasm-as-source", "--import", "tsx", "--test",
      `--test-concurrency=${Math.max(1, availableParallelism())}`,
      "--test-reporter=spec", "--test-reporter-destination=stdout",
      "--test-reporter=tap", `--test-reporter-destination=${tapFile}`,
      ...files,
    ]);
    const tap = existsSync(tapFile) ? readFileSync(tapFile, "utf8") : "";
    rmSync(tapDir, { recursive: true, force: true });
    const count = (name) => Number(tap.match(new RegExp(`^# ${name} (\\d+)$`, "m"))?.[1] ?? 0);
    passed += count("pass");
    failed += count("fail") + count("cancelled");
    skipped += count("skipped") + count("todo");
    if (result.code !== 0 && count("fail") + count("cancelled") === 0) { failed++; console.error("node tests failed before reporting (counted as one failure)"); }
  }
}

process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
process.exit(failed > 0 || skipped > 0 ? 1 : 0);
