import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { runAspectProcess } from "../aspect-process";
import type { CliIo } from "../cli-io";

export const TEST_USAGE = `Usage: proxy-wasm-as test [options]

Runs the project's tests: the as-pect specs (when as-pect.config.js exists) and the Node tests
(test/**/*.test.ts and *.test.js, through node --test with tsx). Build the module first
(\`proxy-wasm-as build\`): both load it. as-pect's output carries no logo, and colour only on a
terminal (FORCE_COLOR and NO_COLOR are honoured).

Options:
  --only <aspect|node>   run one of the two suites
  -h, --help             this help
`;

/** `test`: 0 when every suite that ran passed, 1 when one failed or no test was found. */
export async function testCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { only: { type: "string" }, help: { type: "boolean", short: "h", default: false } },
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
  const runs: Array<{ label: string; run: () => Promise<number> }> = [];
  if (only !== "node" && existsSync(join(io.cwd, "as-pect.config.js"))) {
    const env = { ...process.env, ...io.env };
    runs.push({
      label: "as-pect",
      run: async () => (await runAspectProcess({ cwd: io.cwd, config: "as-pect.config.js", env, stdout: io.stdout, stderr: io.stderr })).code,
    });
  }
  const nodeTests = only === "aspect" ? [] : findTests(join(io.cwd, "test")).map((file) => relative(io.cwd, file));
  if (nodeTests.length > 0) runs.push({ label: "node", run: () => spawnInto(process.execPath, ["--import", "tsx", "--test", ...nodeTests], io) });
  if (runs.length === 0) {
    io.stderr.write("error: no tests found (as-pect.config.js, test/**/*.test.ts)\n");
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

function spawnInto(command: string, args: string[], io: CliIo): Promise<number> {
  return new Promise((resolve) => {
    const env = { ...process.env, ...io.env };
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
