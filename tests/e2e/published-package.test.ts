// The package as npm publishes it: `npm pack` (dist/ built by rollup), then a filter project made
// by `proxy-wasm-as init`, installed from the tarball, must pass its own `npm test` at once. This
// is the one test that installs from the npm registry (assemblyscript, as-pect, tsx), as a user does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { once } from "node:events";
import { createServer, type AddressInfo } from "node:net";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

// Under `npm test`, node_modules/.bin leads PATH, and as-pect's dependencies put an old `npm`
// there: the user's npm is the one on PATH without it.
const userPath = (process.env.PATH ?? "").split(delimiter).filter((dir) => !dir.includes(join("node_modules", ".bin"))).join(delimiter);

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, PATH: userPath, FORCE_COLOR: "0", npm_config_audit: "false", npm_config_fund: "false" } });
  assert.equal(result.status, 0, `${command} ${args.join(" ")} failed in ${cwd}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

test("npm pack, then init + npm install + npm test in a new project passes, and its proxy serves the filter", { timeout: 600_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), "pwas-published-"));
  try {
    // Build dist/ in a copy of the tracked files, so the checkout's bin keeps running src/.
    const pkgDir = join(work, "package");
    const tracked = run("git", ["ls-files", "-z"], repoRoot).stdout.split("\0").filter((f) => f && existsSync(join(repoRoot, f)));
    for (const file of tracked) cpSync(join(repoRoot, file), join(pkgDir, file), { recursive: true });
    symlinkSync(join(repoRoot, "node_modules"), join(pkgDir, "node_modules"), "dir");
    run(npm, ["run", "build:lib"], pkgDir);
    run(npm, ["pack", "--ignore-scripts", "--pack-destination", work], pkgDir);
    const tarball = readdirSync(work).find((name) => name.endsWith(".tgz"));
    assert.ok(tarball, "npm pack wrote a tarball");

    const cli = join(pkgDir, "bin", "proxy-wasm-as.js");
    const init = run(process.execPath, [cli, "init", "myfilter"], work);
    assert.match(init.stdout, /npm test/);
    const project = join(work, "myfilter");
    run(npm, ["install", "--no-audit", "--no-fund", join(work, tarball)], project);
    const tested = run(npm, ["test"], project);
    assert.match(tested.stdout, /✓ build\/myfilter\.wasm/);
    assert.match(tested.stdout, /# fail 0/);

    // The installed CLI (bundled dist/, filters in a worker thread) serves the filter on real HTTP.
    const port = await freePort();
    const proxy = spawn(process.execPath, [join(project, "node_modules", "proxy-wasm-as", "bin", "proxy-wasm-as.js"), "run", "--wasm", "build/myfilter.wasm", "--listen", `127.0.0.1:${port}`, "--admin", "off"], { cwd: project, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    proxy.stdout.on("data", (chunk) => (output += chunk));
    proxy.stderr.on("data", (chunk) => (output += chunk));
    try {
      const response = await fetchWhenUp(`http://127.0.0.1:${port}/hello`, () => output);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("x-greeting"), "hello from myfilter");
    } finally {
      proxy.kill("SIGTERM");
      await once(proxy, "close");
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

/** Polls until the proxy answers (it compiles the module first), at most 60 s. */
async function fetchWhenUp(url: string, output: () => string): Promise<Response> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await fetch(url);
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the proxy did not answer at ${url}:\n${output()}`, { cause: error });
      await new Promise((resolveWait) => setTimeout(resolveWait, 200));
    }
  }
}
