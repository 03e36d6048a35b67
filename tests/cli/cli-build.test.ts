import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { checkBuiltModule } from "../../src/cli/commands/build";
import { main } from "../../src/cli/main";
import { compileWat } from "../proxy/wat-filters";
import { captureIo } from "./cli-test-io";

const project = mkdtempSync(join(tmpdir(), "pwas-build-"));
after(() => rmSync(project, { recursive: true, force: true }));
mkdirSync(join(project, "assembly"));
writeFileSync(join(project, "package.json"), JSON.stringify({ name: "@acme/tiny-filter", version: "1.0.0" }));
// A self-contained asconfig (no SDK), so this test does not depend on the SDK compiling today.
writeFileSync(
  join(project, "asconfig.json"),
  JSON.stringify({
    targets: { release: { optimizeLevel: 1, shrinkLevel: 0, noAssert: true }, debug: { debug: true } },
    options: { runtime: "stub", exportStart: "_initialize", use: ["abort="] },
  }),
);

describe("proxy-wasm-as build", () => {
  it("compiles, checks the module and prints size and sha256", async () => {
    writeFileSync(
      join(project, "assembly/index.ts"),
      [
        "export function proxy_abi_version_0_2_1(): void {}",
        "export function malloc(size: usize): usize { return heap.alloc(size); }",
        "export function proxy_on_context_create(id: u32, parent: u32): void {}",
        "",
      ].join("\n"),
    );
    const cli = captureIo(project);
    const code = await main(["build"], cli.io);
    assert.equal(code, 0, cli.out.stderr);
    const bytes = readFileSync(join(project, "build/tiny-filter.wasm"));
    const sha = createHash("sha256").update(bytes).digest("hex");
    assert.equal(
      cli.out.stdout,
      `✓ build/tiny-filter.wasm  ${bytes.length} bytes  sha256 ${sha}\n  ABI 0.2.1, allocator malloc, 0 imports, 5 exports\n` +
        "  callbacks: proxy_on_context_create\n",
    );
  });

  it("writes the source map beside the module, and no sourceMappingURL section into it (release and debug)", async () => {
    for (const [args, out] of [[["build"], "build/tiny-filter.wasm"], [["build", "--debug"], "build/tiny-filter.debug.wasm"]] as const) {
      const cli = captureIo(project);
      assert.equal(await main([...args, "--force"], cli.io), 0, cli.out.stderr);
      const module = new WebAssembly.Module(readFileSync(join(project, out)));
      assert.deepEqual(WebAssembly.Module.customSections(module, "sourceMappingURL"), []);
      const map = JSON.parse(readFileSync(join(project, `${out}.map`), "utf8")) as { version: number; sources: string[] };
      assert.equal(map.version, 3);
      assert.ok(map.sources.includes("assembly/index.ts"), map.sources.join(", "));
      assert.ok(cli.out.stderr.includes(`  source map → ${out}.map\n`), cli.out.stderr);
    }
  });

  it("builds again when the source map beside an up-to-date module is gone", async () => {
    const cli = captureIo(project);
    assert.equal(await main(["build"], cli.io), 0, cli.out.stderr);
    assert.match(cli.out.stderr, /is up to date/);
    rmSync(join(project, "build/tiny-filter.wasm.map"));
    const again = captureIo(project);
    assert.equal(await main(["build"], again.io), 0, again.out.stderr);
    assert.doesNotMatch(again.out.stderr, /is up to date/);
    assert.ok(readFileSync(join(project, "build/tiny-filter.wasm.map")).length > 0);
  });

  it("shows compiler errors as asc reports them and exits 1", async () => {
    writeFileSync(join(project, "assembly/broken.ts"), "export function f(): i32 { return nope; }\n");
    const cli = captureIo(project);
    const code = await main(["build", "assembly/broken.ts", "-o", "build/broken.wasm"], cli.io);
    assert.equal(code, 1);
    assert.match(cli.out.stderr, /ERROR TS2304: Cannot find name 'nope'\./);
    assert.match(cli.out.stderr, /✗ build failed: 1 compile error\(s\)\n$/);
  });

  it("compiles only the entry given, not the asconfig's own entries as well", async () => {
    const withEntries = mkdtempSync(join(tmpdir(), "pwas-build-entries-"));
    try {
      mkdirSync(join(withEntries, "assembly"));
      writeFileSync(
        join(withEntries, "asconfig.json"),
        JSON.stringify({
          entries: ["assembly/index.ts"],
          targets: { release: { optimizeLevel: 1, noAssert: true } },
          options: { runtime: "stub", exportStart: "_initialize", use: ["abort="] },
        }),
      );
      const marker = "export function proxy_abi_version_0_2_1(): void {}\nexport function malloc(size: usize): usize { return heap.alloc(size); }\n";
      writeFileSync(join(withEntries, "assembly/index.ts"), `${marker}export function from_index(): void {}\n`);
      writeFileSync(join(withEntries, "assembly/other.ts"), `${marker}export function from_other(): void {}\n`);
      const cli = captureIo(withEntries);
      assert.equal(await main(["build", "assembly/other.ts", "-o", "build/other.wasm"], cli.io), 0, cli.out.stderr);
      const exports = WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(join(withEntries, "build/other.wasm")))).map((e) => e.name);
      assert.ok(exports.includes("from_other"), exports.join(", "));
      assert.ok(!exports.includes("from_index"), exports.join(", "));
      assert.deepEqual(readdirSync(withEntries).filter((name) => name.startsWith(".asconfig")), [], "the temporary config is removed");
    } finally {
      rmSync(withEntries, { recursive: true, force: true });
    }
  });

  it("exits 1 when the entry does not exist", async () => {
    const cli = captureIo(project);
    assert.equal(await main(["build", "assembly/missing.ts"], cli.io), 1);
    assert.equal(cli.out.stderr, "error: entry file assembly/missing.ts not found\n");
  });

  it("reports why a module would not load in Envoy", () => {
    const path = join(project, "no-marker.wasm");
    writeFileSync(
      path,
      compileWat(`(module (import "env" "abort" (func (param i32 i32 i32 i32)))
        (memory (export "memory") 1)
        (func (export "malloc") (param i32) (result i32) (i32.const 0)))`),
    );
    const cli = captureIo(project);
    assert.equal(checkBuiltModule(cli.io, path), null);
    assert.match(cli.out.stderr, /^✗ no-marker\.wasm would not load in Envoy:\n {2}/);
    assert.match(cli.out.stderr, /^✗ no-marker\.wasm would not load in Envoy:\n {2}Missing or unknown Proxy-Wasm ABI version\n/);
    assert.match(cli.out.stderr, /env\.abort/);
  });

  it("warns about a module without memory, which Envoy loads and then crashes on", () => {
    const path = join(project, "no-memory.wasm");
    writeFileSync(
      path,
      compileWat(`(module (func (export "proxy_abi_version_0_2_1"))
        (func (export "malloc") (param i32) (result i32) (i32.const 0)))`),
    );
    const cli = captureIo(project);
    assert.notEqual(checkBuiltModule(cli.io, path), null);
    assert.equal(
      cli.out.stderr,
      "  warning: Wasm module has no linear memory (it must export or import one); Envoy loads it, then crashes at the first hostcall that reads or writes memory\n",
    );
  });
});
