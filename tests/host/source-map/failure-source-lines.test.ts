// Failure reports name the AssemblyScript file, line and column (issue #14): the fixture filter
// (tests/fixtures/source-map-filter/assembly/index.ts) fails on purpose in the user's code with an
// `unreachable()`, an array index out of range (the abort is raised in ~lib/array.ts; the report
// must lead with the user's line) and a null dereference, in release and debug builds. Release
// modules carry no names, so Envoy (and this host without a map) prints no backtrace at all; the
// map written beside the module at build time gives every frame its position.
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createTestHost } from "../../../src/testing";
import { SourceMapError } from "../../../src/host/source-map/source-map-error";
import { buildFixture, type FixtureBuild } from "./fixture-build";

let built: FixtureBuild;
before(async () => {
  built = await buildFixture();
}, { timeout: 240_000 });
after(() => built?.dispose());

/** The first line of the report after a request with `x-fail: <mode>`. */
function firstLine(wasm: string | Uint8Array, mode: string, sourceMap?: string | false): string {
  const host = createTestHost({ wasm, ...(sourceMap === undefined ? {} : { sourceMap }) });
  host.http().requestHeaders({ "x-fail": mode });
  assert.notEqual(host.failure, null, "the VM failed");
  return host.failure!.split("\n")[0]!;
}

function report(wasm: string, mode: string): string {
  const host = createTestHost({ wasm });
  host.http().requestHeaders({ "x-fail": mode });
  return host.failure ?? "";
}

describe("failure reports at their source line", { timeout: 300_000 }, () => {
  it("release: unreachable() names the user's line", () => {
    assert.equal(firstLine(built.release, "unreachable"), "Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable at assembly/index.ts:11:32");
  });

  it("release: an index error leads with the user's line, not ~lib/array.ts", () => {
    const text = report(built.release, "index");
    const lines = text.split("\n");
    // pick() is inlined into onRequestHeaders: the user's statement before the bounds check is the call.
    assert.equal(lines[0], "Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable at assembly/index.ts:12:49");
    assert.equal(lines[1], "abort: Index out of range at ~lib/array.ts:114:42");
    assert.equal(lines[2], "Proxy-Wasm plugin in-VM backtrace:");
    assert.match(lines[3]!, /^ {2}0: {2}0x[0-9a-f]+ - unknown\(function index:\d+\) at ~lib\/proxy-wasm-as\/assembly\/runtime\/abort\.ts:\d+:\d+$/);
  });

  it("release: a null dereference names the user's line", () => {
    const text = report(built.release, "null");
    assert.equal(text.split("\n")[0], "Function: proxy_on_request_headers failed: Uncaught RuntimeError: memory access out of bounds at assembly/index.ts:23:10");
    // The last frame since release builds inline single-caller functions (transform/proxy-wasm-exports.mjs).
    assert.match(text, /\n {2}1: {2}0x[0-9a-f]+ - unknown\(function index:\d+\) at assembly\/index\.ts:23:10(\n|$)/);
  });

  it("debug: unreachable() names the user's line, each frame its own", () => {
    const lines = report(built.debug, "unreachable").split("\n");
    assert.equal(lines[0], "Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable at assembly/index.ts:11:32");
    assert.match(lines[2]!, /^ {2}0: {2}0x[0-9a-f]+ - assembly\/index\/Failing#onRequestHeaders at assembly\/index\.ts:11:32$/);
  });

  it("debug: an index error leads with the user's line inside pick()", () => {
    const lines = report(built.debug, "index").split("\n");
    assert.equal(lines[0], "Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable at assembly/index.ts:19:10");
    assert.match(lines[5]!, /^ {2}2: {2}0x[0-9a-f]+ - ~lib\/array\/Array<i32>#__get at ~lib\/array\.ts:114:\d+$/);
    assert.match(lines[6]!, /^ {2}3: {2}0x[0-9a-f]+ - assembly\/index\/pick at assembly\/index\.ts:19:10$/);
    assert.match(lines[7]!, /^ {2}4: {2}0x[0-9a-f]+ - assembly\/index\/Failing#onRequestHeaders at assembly\/index\.ts:12:33$/);
  });

  it("debug: a null dereference names the user's line", () => {
    const lines = report(built.debug, "null").split("\n");
    assert.equal(lines[0], "Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable at assembly/index.ts:23:10");
    assert.equal(lines[1], "abort: Unexpected 'null' (not assigned or failed cast) at assembly/index.ts:23:10");
  });

  it("without a map the report is Envoy's: no position, and no backtrace for a module without names", () => {
    const host = createTestHost({ wasm: built.release, sourceMap: false });
    host.http().requestHeaders({ "x-fail": "unreachable" });
    assert.equal(host.failure, "Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable");
  });

  it("under the callback time limit (the host rewrites the module) frames map through the rewrite", () => {
    for (const wasm of [built.release, built.debug]) {
      const host = createTestHost({ wasm, callbackTimeLimitMs: 60_000 });
      host.http().requestHeaders({ "x-fail": "null" });
      assert.match(host.failure!.split("\n")[0]!, / at assembly\/index\.ts:23:10$/);
    }
    const host = createTestHost({ wasm: built.debug, callbackTimeLimitMs: 60_000 });
    host.http().requestHeaders({ "x-fail": "index" });
    assert.equal(host.failure!.split("\n")[0], "Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable at assembly/index.ts:19:10");
  });

  it("a map given explicitly is used for a module given as bytes", () => {
    const bytes = new Uint8Array(readFileSync(built.release));
    assert.equal(firstLine(bytes, "null"), "Function: proxy_on_request_headers failed: Uncaught RuntimeError: memory access out of bounds");
    assert.equal(firstLine(bytes, "null", `${built.release}.map`), "Function: proxy_on_request_headers failed: Uncaught RuntimeError: memory access out of bounds at assembly/index.ts:23:10");
  });

  it("a map given that cannot be read is an error naming it", () => {
    const missing = join(built.dir, "nowhere.wasm.map");
    assert.throws(() => createTestHost({ wasm: built.release, sourceMap: missing }), (error: unknown) => {
      assert.ok(error instanceof SourceMapError);
      assert.equal(error.message, `cannot read source map ${missing} (ENOENT)`);
      return true;
    });
  });

  it("a broken map beside the module is not used, with a warning, and the report falls back to names", () => {
    const copy = join(built.dir, "broken.debug.wasm");
    copyFileSync(built.debug, copy);
    writeFileSync(`${copy}.map`, '{"version":3,"sources":["a.ts"],"mappings":"A!"}');
    const host = createTestHost({ wasm: copy });
    assert.deepEqual(
      host.logs.records.filter((r) => r.level === "warn").map((r) => r.message),
      [`source map ${copy}.map not used: bad character in mappings at 1`],
    );
    host.http().requestHeaders({ "x-fail": "unreachable" });
    const lines = host.failure!.split("\n");
    assert.equal(lines[0], "Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable");
    assert.match(lines[2]!, /^ {2}0: {2}0x[0-9a-f]+ - assembly\/index\/Failing#onRequestHeaders$/);
  });
});
