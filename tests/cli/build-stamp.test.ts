import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { buildFingerprint, readStamp, type BuildInputs } from "../../src/cli/build-stamp";
import { main } from "../../src/cli/main";
import { captureIo } from "./cli-test-io";

const root = mkdtempSync(join(tmpdir(), "pwas-stamp-"));
after(() => rmSync(root, { recursive: true, force: true }));

const FILTER = [
  "export function proxy_abi_version_0_2_1(): void {}",
  "export function malloc(size: usize): usize { return heap.alloc(size); }",
  "export function proxy_on_context_create(id: u32, parent: u32): void {}",
  "",
].join("\n");

/** A project with a self-contained asconfig (no SDK import), so each compile is quick. */
function makeProject(name: string, options: Record<string, unknown> = {}): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "assembly"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name }));
  writeAsconfig(dir, options);
  writeFileSync(join(dir, "assembly/index.ts"), FILTER);
  return dir;
}

function writeAsconfig(dir: string, options: Record<string, unknown>): void {
  writeFileSync(
    join(dir, "asconfig.json"),
    JSON.stringify({ targets: { release: { optimizeLevel: 1, shrinkLevel: 0, noAssert: true } }, options: { runtime: "stub", exportStart: "_initialize", use: ["abort="], ...options } }),
  );
}

async function build(dir: string, ...args: string[]) {
  const cli = captureIo(dir);
  const code = await main(["build", ...args], cli.io);
  assert.equal(code, 0, cli.out.stderr);
  return cli.out;
}

const COMPILED = /^ {2}building assembly\/index\.ts \(release\) → build\/(\S+)\.wasm …\n {2}compiled assembly\/index\.ts in \d+\.\d s\n {2}source map → build\/\1\.wasm\.map\n$/;
const SKIPPED = /^ {2}assembly\/index\.ts \(release\) is up to date: sources, SDK, compiler and flags unchanged since build\/\S+\.wasm was built\n$/;

describe("build stamp", () => {
  it("skips an unchanged build, still checking and describing the module", async () => {
    const dir = makeProject("unchanged");
    const first = await build(dir);
    assert.match(first.stderr, COMPILED);
    const stamp = readStamp(join(dir, "build/unchanged.wasm"));
    assert.ok(stamp);
    assert.match(stamp.fingerprint, /^[0-9a-f]{64}$/);
    const second = await build(dir);
    assert.match(second.stderr, SKIPPED);
    assert.equal(second.stdout, first.stdout);
    assert.match(second.stdout, /^✓ build\/unchanged\.wasm {2}\d+ bytes {2}sha256 /);
  });

  it("rebuilds when a source file changes, or a new file appears beside the entry", async () => {
    const dir = makeProject("changed-source");
    await build(dir);
    writeFileSync(join(dir, "assembly/index.ts"), `${FILTER}export function proxy_on_done(id: u32): bool { return true; }\n`);
    const changed = await build(dir);
    assert.match(changed.stderr, COMPILED);
    assert.match(changed.stdout, /callbacks: proxy_on_context_create, proxy_on_done\n$/);
    assert.match((await build(dir)).stderr, SKIPPED);
    writeFileSync(join(dir, "assembly/helper.ts"), "export const x = 1;\n");
    assert.match((await build(dir)).stderr, COMPILED);
  });

  it("rebuilds when the asconfig changes (compiler flags)", async () => {
    const dir = makeProject("changed-flags");
    await build(dir);
    writeAsconfig(dir, { noExportMemory: false, sharedMemory: false });
    assert.match((await build(dir)).stderr, COMPILED);
    assert.match((await build(dir)).stderr, SKIPPED);
  });

  it("rebuilds when the module was replaced by hand, and always with --force", async () => {
    const dir = makeProject("replaced");
    const first = await build(dir);
    const wasm = join(dir, "build/replaced.wasm");
    const bytes = readFileSync(wasm);
    writeFileSync(wasm, Buffer.concat([bytes, Buffer.from([0, 3, 1, 0x78])])); // a trailing custom section: still valid
    assert.match((await build(dir)).stderr, COMPILED);
    assert.equal((await build(dir)).stdout, first.stdout);
    assert.match((await build(dir, "--force")).stderr, COMPILED);
  });

  it("changes with the compiler arguments, the SDK's assembly/ and transform/, not with its specs or the output", () => {
    const project = makeProject("fingerprint");
    const sdk = join(root, "sdk");
    mkdirSync(join(sdk, "assembly/__tests__"), { recursive: true });
    mkdirSync(join(sdk, "transform"), { recursive: true });
    writeFileSync(join(sdk, "assembly/index.ts"), "export const a = 1;\n");
    writeFileSync(join(sdk, "assembly/__tests__/a.spec.ts"), "// spec\n");
    writeFileSync(join(sdk, "transform/t.mjs"), "export default class {}\n");
    writeFileSync(join(sdk, "asconfig.json"), "{}");
    const inputs: BuildInputs = {
      projectDir: project,
      entry: join(project, "assembly/index.ts"),
      config: join(project, "asconfig.json"),
      ascArgs: ["assembly/index.ts", "--target", "release"],
      sdkRoot: sdk,
      outFile: join(project, "assembly/out/x.wasm"),
    };
    const base = buildFingerprint(inputs);
    assert.equal(buildFingerprint(inputs), base);
    assert.notEqual(buildFingerprint({ ...inputs, ascArgs: ["assembly/index.ts", "--target", "debug"] }), base);

    writeFileSync(join(sdk, "assembly/__tests__/a.spec.ts"), "// another spec\n");
    mkdirSync(join(project, "assembly/out"), { recursive: true });
    writeFileSync(join(project, "assembly/out/x.wasm"), "output under the source folder");
    assert.equal(buildFingerprint(inputs), base);

    writeFileSync(join(sdk, "transform/t.mjs"), "export default class T {}\n");
    const afterTransform = buildFingerprint(inputs);
    assert.notEqual(afterTransform, base);
    writeFileSync(join(sdk, "assembly/index.ts"), "export const a = 2;\n");
    const afterSdk = buildFingerprint(inputs);
    assert.notEqual(afterSdk, afterTransform);
    writeFileSync(join(sdk, "asconfig.json"), '{"options":{}}');
    assert.notEqual(buildFingerprint(inputs), afterSdk);
  });

  it("follows the asconfig's extends chain", () => {
    const project = makeProject("extends");
    writeFileSync(join(root, "base.json"), '{"options":{"runtime":"stub"}}');
    writeFileSync(join(project, "asconfig.json"), JSON.stringify({ extends: "../base.json" }));
    const inputs: BuildInputs = { projectDir: project, entry: join(project, "assembly/index.ts"), config: join(project, "asconfig.json"), ascArgs: [], sdkRoot: join(root, "no-sdk"), outFile: join(project, "build/x.wasm") };
    const base = buildFingerprint(inputs);
    writeFileSync(join(root, "base.json"), '{"options":{"runtime":"incremental"}}');
    assert.notEqual(buildFingerprint(inputs), base);
  });
});

describe("build stamp with a broken asconfig", () => {
  it("reports asc's message as a failed build (exit 1) instead of throwing while hashing", async () => {
    const dir = makeProject("broken-config");
    writeFileSync(join(dir, "asconfig.json"), "{ not json");
    const cli = captureIo(dir);
    assert.equal(await main(["build"], cli.io), 1);
    assert.equal(cli.out.stderr, `  building assembly/index.ts (release) → build/broken-config.wasm …\n✗ build failed: Asconfig is not valid json: ${join(dir, "asconfig.json")}\n`);
  });
});
