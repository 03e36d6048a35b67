import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { COVERAGE_ENV } from "../../host/coverage-hits";
import { runAspectProcess } from "../aspect-process";
import type { CliIo } from "../cli-io";
import { readCoverage, toLcov, toTextSummary } from "../coverage-report";
import { sdkRoot } from "../sdk-paths";
import { buildFilter } from "./build";

export const TEST_USAGE = `Usage: proxy-wasm-as test [options]

Runs the project's tests: the as-pect specs (when as-pect.config.js exists) and the Node tests
(test/**/*.test.ts and *.test.js, through node --test with tsx). Build the module first
(\`proxy-wasm-as build\`): both load it. as-pect's output carries no logo, and colour only on a
terminal (FORCE_COLOR and NO_COLOR are honoured).

Options:
  --only <aspect|node>   run one of the two suites
  --coverage             build the module with coverage points (assembly/index.ts, release
                         settings), run the tests on it, print the lines and branches of the
                         project's own AssemblyScript that ran, write coverage/lcov.info, then
                         build the release module again
  -h, --help             this help
`;

/** `test`: 0 when every suite that ran passed, 1 when one failed or no test was found. */
export async function testCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      only: { type: "string" },
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
    io.stderr.write(`error: --only must be aspect or node, got "${only}"\n`);
    return 2;
  }
  const env: NodeJS.ProcessEnv = { ...process.env, ...io.env };
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
    io.stderr.write("error: no tests found (as-pect.config.js, test/**/*.test.ts)\n");
    return 1;
  }
  const coverageDir = join(io.cwd, "coverage");
  const rawDir = join(coverageDir, ".raw");
  if (values.coverage) {
    rmSync(rawDir, { recursive: true, force: true });
    io.stdout.write("> coverage build\n");
    if ((await buildForCoverage(io, rawDir)) === null) return 1;
    env[COVERAGE_ENV] = rawDir;
  }
  let failed = 0;
  for (const run of runs) {
    io.stdout.write(`> ${run.label}\n`);
    if ((await run.run()) !== 0) failed++;
  }
  io.stdout.write(failed === 0 ? "all test suites passed\n" : `${failed} test suite(s) failed\n`);
  if (values.coverage) {
    const files = readCoverage(rawDir);
    const lcov = join(coverageDir, "lcov.info");
    writeFileSync(lcov, toLcov(files));
    io.stdout.write(`> coverage of the project's AssemblyScript (${relative(io.cwd, lcov)})\n${toTextSummary(files)}`);
    io.stdout.write("> release build (the coverage build replaced it)\n");
    if ((await buildFilter(io, { debug: false })) === null) return 1;
  }
  return failed === 0 ? 0 : 1;
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
      io.stderr.write(`error: could not start ${command}: ${error.message}\n`);
      resolve(1);
    });
    child.on("close", (code) => resolve(code ?? 1));
  });
}
