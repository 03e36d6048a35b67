// Streams whose root makes no stream context pass through (assembly/api/pass_through.ts), in filters
// built as a user builds them; and the SDK's transform (transform/pass-through.mjs) leaves that
// code out when every root class declares a stream factory that cannot return null. The same for
// streams that meet a callback of the other stream kind (assembly/api/stream_kind_mismatch.ts),
// whose code stays only where that can happen.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { buildFilter } from "../../src/cli/commands/build";
import { createTestHost } from "../../src/testing";
import { captureIo } from "../cli/cli-test-io";
import { userProject } from "../helpers/user-project";

const project = userProject("pwas-pass-through-");
// The release build (optimised, transformed) with a name section, to see which functions are left.
writeFileSync(join(project, "named.json"), JSON.stringify({ extends: "./asconfig.json", targets: { release: { debug: true } } }));

const PRELUDE = [
  "import {",
  "  RootContext, HttpContext, TcpContext, FilterHeadersStatus, FilterStatus, registerDefaultRoot, registerRoot, registerHttpFilter,",
  '} from "proxy-wasm-as/assembly";',
  'export * from "proxy-wasm-as/assembly/exports";',
  "",
].join("\n");

/** The bytes of `i64.const word` (opcode 0x42, the value as signed LEB128). */
function i64Const(word: bigint): Buffer {
  const bytes = [0x42];
  let value = BigInt.asIntN(64, word);
  for (;;) {
    const byte = Number(value & 0x7fn);
    value >>= 7n;
    const done = (value === 0n && (byte & 0x40) === 0) || (value === -1n && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return Buffer.from(bytes);
  }
}

// A word of each warning, as the SDK writes it (an immediate in the code, not data): unique to
// the code that logs it, so it is in the module exactly when that code is.
const PASS_THROUGH_WORD = i64Const(0x6165727473206f6en); // "no strea"
const HTTP_ON_TCP_WORD = i64Const(0x637573203b6e6f69n); // "ion; suc"
const TCP_ON_HTTP_WORD = i64Const(0x6e6f632050435420n); // " TCP con"

/** Builds `source` (after the imports above) in release mode (with function names, as a user's debug build); the module bytes, whether the pass-through code is in it, and whether the other-kind code is. */
async function build(name: string, source: string): Promise<{ wasm: Uint8Array; hasPassThrough: boolean; hasOtherKind: boolean }> {
  writeFileSync(join(project, "assembly", `${name}.ts`), PRELUDE + source);
  const cli = captureIo(project);
  const out = join("build", `${name}.wasm`);
  const result = await buildFilter(cli.io, { entry: `assembly/${name}.ts`, config: "named.json", debug: false, out });
  assert.ok(result, cli.out.stderr);
  const wasm = new Uint8Array(readFileSync(join(project, out)));
  const names = WebAssembly.Module.customSections(new WebAssembly.Module(wasm), "name");
  assert.equal(names.length, 1, "the build has a name section");
  const bytes = Buffer.from(wasm);
  const hasPassThrough = bytes.includes(PASS_THROUGH_WORD);
  const hasOtherKind = bytes.includes(HTTP_ON_TCP_WORD) && bytes.includes(TCP_ON_HTTP_WORD);
  assert.equal(bytes.includes(HTTP_ON_TCP_WORD), hasOtherKind, "both other-kind warnings or neither");
  return { wasm, hasPassThrough, hasOtherKind };
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

const HTTP_ON_TCP = 'plugin "p" made an HTTP context for a TCP connection; such connections pass through untouched';
const TCP_ON_HTTP = 'plugin "p" made a TCP context for an HTTP stream; such streams pass through untouched';

describe("streams that meet a callback of the other kind", () => {
  it("an HTTP-only filter (no TCP callbacks) leaves the other-kind code out; on TCP the host continues the callbacks it lacks, with no warning", async () => {
    const { wasm, hasOtherKind } = await build("http_only", `${STREAM}
registerHttpFilter("", (id: u32, root: RootContext): HttpContext => new AddsHeader(id, root));
`);
    assert.equal(hasOtherKind, false);
    const host = createTestHost({ wasm, pluginName: "p" });
    const connection = host.tcp();
    assert.equal(connection.newConnection(), "Continue");
    assert.equal(connection.downstreamData("ping"), "Continue");
    assert.equal(connection.upstreamData("pong"), "Continue");
    connection.close();
    assert.equal(connection.upstream, "ping");
    assert.equal(connection.downstream, "pong");
    assert.deepEqual(host.logs.at("warn"), []);
    assert.equal(host.failure, null);
    assert.equal(host.flow({ request: REQUEST }).downstream.header("x-filter"), "seen");
  });

  it("a TCP root in a module that exports HTTP callbacks keeps it: its HTTP streams pass, warned once", async () => {
    const { wasm, hasOtherKind } = await build("tcp_root_http_exports", `${STREAM}
class Http extends RootContext {
  createHttpContext(id: u32): HttpContext { return new AddsHeader(id, this); }
}
class Tcp extends RootContext {
  createTcpContext(id: u32): TcpContext { return new TcpContext(id, this); }
}
registerRoot("http", (id: u32): RootContext => new Http(id));
registerRoot("tcp", (id: u32): RootContext => new Tcp(id));
`);
    assert.equal(hasOtherKind, true);
    const host = createTestHost({ wasm, pluginName: "p", rootId: "tcp" });
    for (let n = 0; n < 3; n++) {
      const result = host.flow({ request: REQUEST, response: { headers: [[":status", "200"], ["x-upstream", "u"]] } });
      assert.deepEqual(result.downstream.headers, [[":status", "200"], ["x-upstream", "u"]]);
    }
    assert.deepEqual(host.logs.at("warn"), [TCP_ON_HTTP]);
    assert.equal(host.failure, null);
    assert.equal(host.vm.contexts.size, 1, "the streams' contexts were deleted");
  });

  it("HTTP and TCP callbacks with an HTTP root keep it: its TCP connections pass, warned once", async () => {
    const { wasm, hasOtherKind } = await build("both_kinds", `${STREAM}
class Echo extends TcpContext {
  onDownstreamData(size: u32, end: bool): FilterStatus { return FilterStatus.StopIteration; }
}
class Http extends RootContext {
  createHttpContext(id: u32): HttpContext { return new AddsHeader(id, this); }
}
class Tcp extends RootContext {
  createTcpContext(id: u32): TcpContext { return new Echo(id, this); }
}
registerRoot("http", (id: u32): RootContext => new Http(id));
registerRoot("tcp", (id: u32): RootContext => new Tcp(id));
`);
    assert.equal(hasOtherKind, true);
    const host = createTestHost({ wasm, pluginName: "p", rootId: "http" });
    for (let n = 0; n < 2; n++) {
      const connection = host.tcp();
      assert.equal(connection.newConnection(), "Continue");
      assert.equal(connection.downstreamData("ping"), "Continue");
      connection.close();
      assert.equal(connection.upstream, "ping");
    }
    assert.deepEqual(host.logs.at("warn"), [HTTP_ON_TCP]);
    assert.equal(host.failure, null);
    assert.equal(host.flow({ request: REQUEST }).downstream.header("x-filter"), "seen");
  });
});
