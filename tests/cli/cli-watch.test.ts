import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { main } from "../../src/cli/main";
import { captureIo } from "./cli-test-io";

const repo = resolve(import.meta.dirname, "../..");
const root = mkdtempSync(join(tmpdir(), "pwas-watch-"));
after(() => rmSync(root, { recursive: true, force: true }));

const FILTER = [
  "export function proxy_abi_version_0_2_1(): void {}",
  "export function malloc(size: usize): usize { return heap.alloc(size); }",
  "export function proxy_on_context_create(id: u32, parent: u32): void {}",
  "",
].join("\n");
const WITH_DONE = `${FILTER}export function proxy_on_done(id: u32): bool { return true; }\n`;

/** A project with a self-contained asconfig (no SDK import), so each compile is quick. */
function makeProject(name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "assembly"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, type: "module" }));
  writeFileSync(
    join(dir, "asconfig.json"),
    JSON.stringify({ targets: { release: { optimizeLevel: 1, shrinkLevel: 0, noAssert: true } }, options: { runtime: "stub", exportStart: "_initialize", use: ["abort="] } }),
  );
  writeFileSync(join(dir, "assembly/index.ts"), FILTER);
  return dir;
}

/** Polls `condition` every 50 ms; fails with `describe()` after `timeoutMs`. */
async function waitFor(condition: () => boolean, describe: () => string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms:\n${describe()}`);
    await new Promise((tick) => setTimeout(tick, 50));
  }
}

const count = (text: string, pattern: RegExp): number => text.match(new RegExp(pattern.source, "g"))?.length ?? 0;

describe("watch modes", () => {
  it("build --watch rebuilds on a change, keeps watching after a failed build, and stops on the signal", async () => {
    const dir = makeProject("build-watch");
    const cli = captureIo(dir);
    const exit = main(["build", "--watch"], cli.io);
    const output = () => `stdout:\n${cli.out.stdout}\nstderr:\n${cli.out.stderr}`;
    try {
      await Promise.race([cli.ready, exit.then((code) => assert.fail(`build --watch exited with ${code}\n${output()}`))]);
      assert.match(cli.out.stdout, /callbacks: proxy_on_context_create\n$/);
      assert.match(cli.out.stderr, /watching assembly, asconfig\.json, package\.json for changes \(Ctrl-C to stop\)\n$/);

      writeFileSync(join(dir, "assembly/index.ts"), "export function broken(): i32 { return nope; }\n");
      await waitFor(() => cli.out.stderr.includes("✗ build failed"), output);
      assert.match(cli.out.stderr, /\nchanged: assembly\/index\.ts\n/);

      writeFileSync(join(dir, "assembly/index.ts"), WITH_DONE);
      await waitFor(() => cli.out.stdout.includes("callbacks: proxy_on_context_create, proxy_on_done\n"), output);
    } finally {
      cli.stop();
    }
    assert.equal(await exit, 0);
  });

  it("test --watch builds and runs the tests, then again when a test changes", async () => {
    const dir = makeProject("test-watch");
    mkdirSync(join(dir, "test"));
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(join(repo, "node_modules", "tsx"), join(dir, "node_modules", "tsx"), "dir");
    const testFile = (expected: string) =>
      [
        'import test from "node:test";',
        'import assert from "node:assert/strict";',
        'import { existsSync } from "node:fs";',
        `test("module built", () => assert.equal(existsSync(new URL("../build/test-watch.wasm", import.meta.url)) ? "built" : "missing", ${JSON.stringify(expected)}));`,
        "",
      ].join("\n");
    writeFileSync(join(dir, "test/module.test.mjs"), testFile("not yet"));
    const cli = captureIo(dir);
    const exit = main(["test", "--watch", "--only", "node"], cli.io);
    const output = () => `stdout:\n${cli.out.stdout}\nstderr:\n${cli.out.stderr}`;
    try {
      await Promise.race([cli.ready, exit.then((code) => assert.fail(`test --watch exited with ${code}\n${output()}`))]);
      assert.match(cli.out.stdout, /✗ tests failed after \d+\.\d s; waiting for a change\n$/);
      assert.match(cli.out.stderr, /watching assembly, test, asconfig\.json, package\.json for changes/);

      writeFileSync(join(dir, "test/module.test.mjs"), testFile("built"));
      await waitFor(() => cli.out.stdout.includes("✓ built and tested in"), output);
      assert.match(cli.out.stderr, /\nchanged: test\/module\.test\.mjs\n/);
      // The module was current: the second cycle checked the stamp and did not compile.
      assert.equal(count(cli.out.stderr, /compiled assembly\/index\.ts/), 1);
      assert.match(cli.out.stderr, /is up to date/);
    } finally {
      cli.stop();
    }
    assert.equal(await exit, 0);
  });

  it("run --watch in a project rebuilds the served module from its sources, and the proxy reloads it", async () => {
    const dir = makeProject("run-watch");
    const cli = captureIo(dir);
    const exit = main(["run", "--watch", "--wasm", "build/run-watch.wasm", "--listen", "127.0.0.1:0", "--admin", "off", "--log-level", "info"], cli.io);
    const output = () => `stdout:\n${cli.out.stdout}\nstderr:\n${cli.out.stderr}`;
    try {
      await Promise.race([cli.ready, exit.then((code) => assert.fail(`run --watch exited with ${code}\n${output()}`))]);
      // Not there before: the first build made it.
      assert.match(cli.out.stderr, /compiled assembly\/index\.ts in/);
      writeFileSync(join(dir, "assembly/index.ts"), WITH_DONE);
      await waitFor(() => cli.out.stdout.includes("proxy_on_done") && /reloaded \S*run-watch\.wasm: new streams use the new VM/.test(cli.out.stderr), output);
    } finally {
      cli.stop();
    }
    assert.equal(await exit, 0);
  });
});
