import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { COVERAGE_ENV } from "../../host/coverage-hits";
import { runAspectProcess } from "../aspect-process";
import { parseFlags } from "../parse-flags";
import type { CliIo } from "../cli-io";
import { readCoverage, toLcov, toTextSummary } from "../coverage-report";
import { buildFilter, buildWatchRoots } from "./build";
import { watchUntilStopped } from "../watch-sources";
import { styleFor } from "../terminal-style";
import { sdkRoot } from "../sdk-paths";

export const TEST_USAGE = `Usage: proxy-wasm-as test [options]

Runs the project's tests: the as-pect specs (when as-pect.config.js exists) and the Node tests
(test/**/*.test.ts and *.test.js, through node --test with tsx). Build the module first
(\`proxy-wasm-as build\`): both load it. as-pect's output carries no logo, and colour only on a
terminal (FORCE_COLOR and NO_COLOR are honoured).

Options:
  --only <aspect|node>   run one of the two suites
  --watch                build (when the project has an asconfig.json) and run the tests, then
                         again on every change of assembly/, test/ or the configs (until Ctrl-C);
                         the compiler stays loaded between builds
  --coverage             build the module with coverage points (assembly/index.ts, release
                         settings), run the tests on it, print the lines and branches of the
                         project's own AssemblyScript that ran, write coverage/lcov.info, then
                         build the release module again
  -h, --help             this help
`;

/** `test`: 0 when every suite that ran passed, 1 when one failed or no test was found. */
export async function testCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags({
    args,
    options: {
      only: { type: "string" },
      watch: { type: "boolean", default: false },
      coverage: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.stdout.write(TEST_USAGE);
    return 0;
  }
  const only = values.only;
  if (only !== undefined && only !== "aspect" && only !== "node") {
    io.stderr.write(`${styleFor(io.stderr, io.env).fail("error:")} --only must be aspect or node, got "${only}"\n`);
    return 2;
  }
  if (values.coverage && values.watch) {
    io.stderr.write(`${styleFor(io.stderr, io.env).fail("error:")} --coverage and --watch cannot be combined\n`);
    return 2;
  }
  if (values.coverage) return runWithCoverage(io, only);
  if (!values.watch) return runSuites(io, only);
  const style = styleFor(io.stdout, io.env);
  const cycle = async (): Promise<void> => {
    const started = performance.now();
    const built = existsSync(join(io.cwd, "asconfig.json")) ? (await buildFilter(io, { debug: false, incremental: true })) !== null : true;
    const code = built ? await runSuites(io, only) : 1;
    const elapsed = `${((performance.now() - started) / 1000).toFixed(1)} s`;
    io.stdout.write(code === 0 ? `${style.ok("✓")} built and tested in ${elapsed}\n` : `${style.fail("✗")} ${built ? "tests failed" : "build failed"} after ${elapsed}; waiting for a change\n`);
  };
  await cycle();
  const roots = buildWatchRoots(io.cwd, {});
  roots.folders.push(join(io.cwd, "test"));
  roots.files.push(join(io.cwd, "as-pect.config.js"));
  await watchUntilStopped(io, roots, cycle);
  return 0;
}

/**
 * Runs the suites once: 0 when every suite that ran passed, 1 otherwise (or when none was found).
 * `env` adds to the children's environment (the coverage run names its output folder there).
 */
async function runSuites(io: CliIo, only: string | undefined, extraEnv: NodeJS.ProcessEnv = {}): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...io.env, ...extraEnv };
  const runs: Array<{ label: string; run: () => Promise<number> }> = [];
  if (only !== "node" && existsSync(join(io.cwd, "as-pect.config.js"))) {
    runs.push({
      label: "as-pect",
      run: async () => (await runAspectProcess({ cwd: io.cwd, config: "as-pect.config.js", env, stdout: io.stdout, stderr: io.stderr })).code,
    });
  }
  const nodeTests = only === "aspect" ? [] : findTests(join(io.cwd, "test")).map((file) => relative(io.cwd, file));
  if (nodeTests.length > 0) runs.push({ label: "node", run: () => spawnInto(process.execPath, ["--import", "tsx", "--test", ...nodeTests], io, env) });
  if (runs.length === 0) {
    io.stderr.write(`${styleFor(io.stderr, io.env).fail("error:")} no tests found (as-pect.config.js, test/**/*.test.ts)\n`);
    return 1;
  }
  let failed = 0;
  for (const run of runs) {
    io.stdout.write(`> ${run.label}\n`);
    if ((await run.run()) !== 0) failed++;
  }
  io.stdout.write(failed === 0 ? "all test suites passed\n" : `${failed} test suite(s) failed\n`);
  return failed === 0 ? 0 : 1;
}

/** `--coverage`: a coverage build, the suites on it, the report, then the release build again. */
async function runWithCoverage(io: CliIo, only: string | undefined): Promise<number> {
  const coverageDir = join(io.cwd, "coverage");
  const rawDir = join(coverageDir, ".raw");
  rmSync(rawDir, { recursive: true, force: true });
  io.stdout.write("> coverage build\n");
  if ((await buildForCoverage(io, rawDir)) === null) return 1;
  const code = await runSuites(io, only, { [COVERAGE_ENV]: rawDir });
  const files = readCoverage(rawDir);
  const lcov = join(coverageDir, "lcov.info");
  writeFileSync(lcov, toLcov(files));
  io.stdout.write(`> coverage of the project's AssemblyScript (${relative(io.cwd, lcov)})\n${toTextSummary(files)}`);
  io.stdout.write("> release build (the coverage build replaced it)\n");
  if ((await buildFilter(io, { debug: false })) === null) return 1;
  return code;
}

/**
 * The release build of assembly/index.ts with the coverage transform, at the release output path
 * (the tests load that file). The transform writes its map into `rawDir`.
 */
async function buildForCoverage(io: CliIo, rawDir: string) {
  mkdirSync(rawDir, { recursive: true });
  const transform = (await import(pathToFileURL(join(sdkRoot(), "transform", "coverage.mjs")).href)) as { default: unknown };
  const before = process.env[COVERAGE_ENV];
  process.env[COVERAGE_ENV] = rawDir; // the transform reads it, and the load check then links the counters
  try {
    return await buildFilter(io, { debug: false, transforms: [transform.default] });
  } finally {
    if (before === undefined) delete process.env[COVERAGE_ENV];
    else process.env[COVERAGE_ENV] = before;
  }
}

function findTests(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (/\.test\.(ts|js|mjs)$/.test(entry)) found.push(path);
  }
  return found;
}

function spawnInto(command: string, args: string[], io: CliIo, childEnv: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const env = { ...childEnv };
    // Set when this CLI itself runs under `node --test`; the child would then report to a parent
    // runner that is not listening instead of printing its results.
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(command, args, { cwd: io.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => io.stdout.write(chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => io.stderr.write(chunk.toString()));
    child.on("error", (error) => {
      io.stderr.write(`${styleFor(io.stderr, io.env).fail("error:")} could not start ${command}: ${error.message}\n`);
      resolve(1);
    });
    child.on("close", (code) => resolve(code ?? 1));
  });
}
