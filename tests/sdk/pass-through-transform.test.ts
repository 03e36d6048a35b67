// Streams whose root makes no stream context pass through (assembly/api/pass_through.ts), in filters
// built as a user builds them; and the SDK's transform (transform/pass-through.mjs) leaves that
// code out when every root class declares a stream factory that cannot return null.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { buildFilter } from "../../src/cli/commands/build";
import { createTestHost } from "../../src/testing";
import { captureIo } from "../cli/cli-test-io";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const project = mkdtempSync(join(tmpdir(), "pwas-pass-through-"));
after(() => rmSync(project, { recursive: true, force: true }));
mkdirSync(join(project, "node_modules"));
symlinkSync(repo, join(project, "node_modules", "proxy-wasm-as"), "dir");
mkdirSync(join(project, "assembly"));
writeFileSync(join(project, "asconfig.json"), JSON.stringify({ extends: "./node_modules/proxy-wasm-as/asconfig.json" }));
// The release build (optimised, transformed) with a name section, to see which functions are left.
writeFileSync(join(project, "named.json"), JSON.stringify({ extends: "./asconfig.json", targets: { release: { debug: true } } }));

const PRELUDE = [
  "import {",
  "  RootContext, HttpContext, TcpContext, FilterHeadersStatus, registerDefaultRoot, registerRoot, registerHttpFilter,",
  '} from "proxy-wasm-as/assembly";',
  'export * from "proxy-wasm-as/assembly/exports";',
  "",
].join("\n");

/** Builds `source` (after the imports above) in release mode with function names; the module bytes and whether the pass-through code is in it. */
async function build(name: string, source: string): Promise<{ wasm: Uint8Array; hasPassThrough: boolean }> {
  writeFileSync(join(project, "assembly", `${name}.ts`), PRELUDE + source);
  const cli = captureIo(project);
  const out = join("build", `${name}.wasm`);
  const result = await buildFilter(cli.io, { entry: `assembly/${name}.ts`, config: "named.json", debug: false, out });
  assert.ok(result, cli.out.stderr);
  const wasm = new Uint8Array(readFileSync(join(project, out)));
  const names = WebAssembly.Module.customSections(new WebAssembly.Module(wasm), "name");
  assert.equal(names.length, 1, "the build has a name section");
  // Small functions get inlined; the id set and the property read are only there for it.
  const text = Buffer.from(names[0]).toString("latin1");
  const hasPassThrough = text.includes("/assembly/runtime/id_set/") || text.includes("/assembly/api/pass_through/");
  return { wasm, hasPassThrough };
}

const STREAM = `
class AddsHeader extends HttpContext {
  onResponseHeaders(count: u32, end: bool): FilterHeadersStatus {
    this.responseHeaders.add("x-filter", "seen");
    return FilterHeadersStatus.Continue;
  }
}
`;

const REQUEST = { headers: [[":method", "GET"], [":path", "/"], [":authority", "example.com"]] as [string, string][] };
const WARNING = 'plugin "p" makes no stream context; its streams pass through untouched';

describe("streams whose root makes no stream context", () => {
  it("a root that declines some streams (nullable createHttpContext) keeps the pass-through: declined streams pass, warned once", async () => {
    const { wasm, hasPassThrough } = await build("declines", `${STREAM}
class Root extends RootContext {
  onConfigure(size: u32): bool { this.enabled = this.pluginConfigurationText() == "on"; return true; }
  enabled: bool = false;
  createHttpContext(id: u32): HttpContext | null { return this.enabled ? new AddsHeader(id, this) : null; }
}
registerDefaultRoot((id: u32): RootContext => new Root(id));
`);
    assert.equal(hasPassThrough, true);
    const on = createTestHost({ wasm, pluginName: "p", pluginConfig: "on" });
    assert.equal(on.flow({ request: REQUEST }).downstream.header("x-filter"), "seen");
    const off = createTestHost({ wasm, pluginName: "p", pluginConfig: "off" });
    for (let n = 0; n < 3; n++) {
      const result = off.flow({ request: REQUEST, response: { headers: [[":status", "200"], ["x-upstream", "u"]] } });
      assert.deepEqual(result.downstream.headers, [[":status", "200"], ["x-upstream", "u"]]);
    }
    assert.deepEqual(off.logs.at("warn"), [WARNING]);
    assert.equal(off.failure, null);
    assert.equal(on.logs.at("warn").length, 0);
  });

  it("every root declaring a non-null factory (its own, or registerHttpFilter's) leaves the pass-through code out", async () => {
    const nonNull = await build("non_null", `${STREAM}
class Http extends RootContext {
  createHttpContext(id: u32): HttpContext { return new AddsHeader(id, this); }
}
class Tcp extends RootContext {
  createTcpContext(id: u32): TcpContext { return new TcpContext(id, this); }
}
registerRoot("http", (id: u32): RootContext => new Http(id));
registerRoot("tcp", (id: u32): RootContext => new Tcp(id));
registerHttpFilter("filter", (id: u32, root: RootContext): HttpContext => new AddsHeader(id, root));
`);
    assert.equal(nonNull.hasPassThrough, false);
    const host = createTestHost({ wasm: nonNull.wasm, rootId: "http" });
    assert.equal(host.flow({ request: REQUEST }).downstream.header("x-filter"), "seen");

    // The same module with one root's factory nullable keeps the code.
    const oneNullable = await build("one_nullable", `${STREAM}
class Http extends RootContext {
  createHttpContext(id: u32): HttpContext | null { return new AddsHeader(id, this); }
}
class Tcp extends RootContext {
  createTcpContext(id: u32): TcpContext { return new TcpContext(id, this); }
}
registerRoot("http", (id: u32): RootContext => new Http(id));
registerRoot("tcp", (id: u32): RootContext => new Tcp(id));
`);
    assert.equal(oneNullable.hasPassThrough, true);
  });

  it("a root-only filter keeps the pass-through code: its HTTP and TCP streams pass, one warning", async () => {
    const { wasm, hasPassThrough } = await build("root_only", `
class Root extends RootContext {
  onTick(): void {}
}
registerDefaultRoot((id: u32): RootContext => new Root(id));
`);
    assert.equal(hasPassThrough, true);
    const host = createTestHost({ wasm, pluginName: "p" });
    const result = host.flow({ request: { ...REQUEST, body: "in" }, response: { headers: [[":status", "204"]] } });
    assert.equal(result.upstream.body, "in");
    assert.equal(result.downstream.status, 204);
    const connection = host.tcp();
    assert.equal(connection.newConnection(), "Continue");
    assert.equal(connection.downstreamData("ping"), "Continue");
    connection.close();
    assert.equal(connection.upstream, "ping");
    assert.deepEqual(host.logs.at("warn"), [WARNING]);
    assert.equal(host.failure, null);
  });
});
