import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseFlags } from "../parse-flags";
import type { CliIo } from "../cli-io";
import { styleFor } from "../terminal-style";
import { sdkRoot } from "../sdk-paths";

export const TEST_USAGE = `Usage: proxy-wasm-as test [options]

Runs the project's tests: the as-pect specs (when as-pect.config.js exists) and the Node tests
(test/**/*.test.ts and *.test.js, through node --test with tsx). Build the module first
(\`proxy-wasm-as build\`): the Node tests load it.

Options:
  --only <aspect|node>   run one of the two suites
  -h, --help             this help
`;

/** `test`: 0 when every suite that ran passed, 1 when one failed or no test was found. */
export async function testCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags({
    args,
    options: { only: { type: "string" }, help: { type: "boolean", short: "h", default: false } },
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
  const runs: Array<{ label: string; command: string; args: string[] }> = [];
  if (only !== "node" && existsSync(join(io.cwd, "as-pect.config.js"))) {
    runs.push({ label: "as-pect", command: process.execPath, args: [asPectBin(io.cwd), "--config", "as-pect.config.js", "--no-logo"] });
  }
  const nodeTests = only === "aspect" ? [] : findTests(join(io.cwd, "test")).map((file) => relative(io.cwd, file));
  if (nodeTests.length > 0) runs.push({ label: "node", command: process.execPath, args: ["--import", "tsx", "--test", ...nodeTests] });
  if (runs.length === 0) {
    io.stderr.write("error: no tests found (as-pect.config.js, test/**/*.test.ts)\n");
    return 1;
  }
  let failed = 0;
  for (const run of runs) {
    io.stdout.write(`> ${run.label}\n`);
    const code = await spawnInto(run.command, run.args, io);
    if (code !== 0) failed++;
  }
  io.stdout.write(failed === 0 ? "all test suites passed\n" : `${failed} test suite(s) failed\n`);
  return failed === 0 ? 0 : 1;
}

/** The project's own as-pect, else the one installed with the SDK. */
function asPectBin(cwd: string): string {
  const local = join(cwd, "node_modules", "@as-pect", "cli", "bin", "asp.js");
  return existsSync(local) ? local : join(sdkRoot(), "node_modules", "@as-pect", "cli", "bin", "asp.js");
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
      io.stderr.write(`${styleFor(io.stderr, io.env).fail("error:")} could not start ${command}: ${error.message}\n`);
      resolve(1);
    });
    child.on("close", (code) => resolve(code ?? 1));
  });
}
