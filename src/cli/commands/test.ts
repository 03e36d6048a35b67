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
import { INSPECT_ENV } from "../../host/inspect-mode";

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
  --inspect              run each suite (each Node test file on its own) under Node's inspector
                         on 127.0.0.1:9229, waiting for a debugger (chrome://inspect, VS Code)
                         before it starts; filters show their AssemblyScript sources and stop at
                         breakpoints; no callback time limit
  --inspect-port <[host:]port>  where the inspector listens (implies --inspect)
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
      inspect: { type: "boolean", default: false },
      "inspect-port": { type: "string" },
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
  const inspectPort = values["inspect-port"];
  if (inspectPort !== undefined && !/^(?:(?:\[[^\]]+\]|[^:]*):)?\d{1,5}$/.test(inspectPort)) {
    io.stderr.write(`${styleFor(io.stderr, io.env).fail("error:")} --inspect-port expects [host:]port, got "${inspectPort}"\n`);
    return 2;
  }
  const inspect = values.inspect || inspectPort !== undefined ? (inspectPort ?? "127.0.0.1:9229") : undefined;
  if (values.coverage && (values.watch || inspect !== undefined)) {
    io.stderr.write(`${styleFor(io.stderr, io.env).fail("error:")} --coverage cannot be combined with --watch or --inspect\n`);
    return 2;
  }
  if (values.coverage) return runWithCoverage(io, only);
  if (!values.watch) return runSuites(io, only, { inspect });
  const style = styleFor(io.stdout, io.env);
  const cycle = async (): Promise<void> => {
    const started = performance.now();
    const built = existsSync(join(io.cwd, "asconfig.json")) ? (await buildFilter(io, { debug: false, incremental: true })) !== null : true;
    const code = built ? await runSuites(io, only, { inspect }) : 1;
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

/** One suite run: as-pect (through `runAspectProcess`) or a Node process to start. */
export interface SuiteRun {
  readonly label: string;
  readonly kind: "aspect" | "node";
  /** For `node`, the whole command line after `node`; for `aspect`, Node's own flags before as-pect's entry. */
  readonly args: string[];
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The processes `test` starts in `cwd`: as-pect (when as-pect.config.js exists), then the Node
 * tests through `node --test`. With `inspect` ([host:]port), each waits for a debugger there
 * (`--inspect-brk`) with PWAS_INSPECT=1 (the test kit then loads modules for the debugger and
 * without the time limit), and the Node test files run one process each, directly rather than
 * under `--test`, whose runner would put each file in a child with another port.
 */
export function suiteRuns(cwd: string, only: string | undefined, inspect?: string): SuiteRun[] {
  const runs: SuiteRun[] = [];
  const debug = inspect === undefined ? [] : [`--inspect-brk=${inspect}`];
  const env: Record<string, string> = inspect === undefined ? {} : { [INSPECT_ENV]: "1" };
  if (only !== "node" && existsSync(join(cwd, "as-pect.config.js"))) runs.push({ label: "as-pect", kind: "aspect", args: debug, env });
  const nodeTests = only === "aspect" ? [] : findTests(join(cwd, "test")).map((file) => relative(cwd, file));
  if (nodeTests.length > 0 && inspect === undefined) runs.push({ label: "node", kind: "node", args: ["--import", "tsx", "--test", ...nodeTests], env });
  if (inspect !== undefined) for (const file of nodeTests) runs.push({ label: `node ${file}`, kind: "node", args: [...debug, "--import", "tsx", file], env });
  return runs;
}

/**
 * Runs the suites once: 0 when every suite that ran passed, 1 otherwise (or when none was found).
 * `extraEnv` adds to the children's environment (the coverage run names its output folder there).
 */
async function runSuites(io: CliIo, only: string | undefined, options: { inspect?: string; extraEnv?: NodeJS.ProcessEnv } = {}): Promise<number> {
  const { inspect, extraEnv = {} } = options;
  const runs = suiteRuns(io.cwd, only, inspect);
  if (runs.length === 0) {
    io.stderr.write(`${styleFor(io.stderr, io.env).fail("error:")} no tests found (as-pect.config.js, test/**/*.test.ts)\n`);
    return 1;
  }
  let failed = 0;
  for (const run of runs) {
    io.stdout.write(`> ${run.label}\n`);
    if (inspect !== undefined) io.stdout.write(`  waiting for a debugger on ${inspect} (chrome://inspect or VS Code; docs/debugging.md)\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, ...io.env, ...extraEnv, ...run.env };
    const code =
      run.kind === "aspect"
        ? (await runAspectProcess({ cwd: io.cwd, config: "as-pect.config.js", nodeArgs: run.args, env, stdout: io.stdout, stderr: io.stderr })).code
        : await spawnInto(process.execPath, run.args, io, env);
    if (code !== 0) failed++;
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
  const code = await runSuites(io, only, { extraEnv: { [COVERAGE_ENV]: rawDir } });
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
