// The JS half of the AssemblyScript test API, without as-pect: a fake string table stands in for
// the spec module's `__getString` / `__newString`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createProxyWasmTestImports, decodeFields, decodePairList, encodeFields, encodePairList, FilterLibrary, withProxyWasmHost } from "../../src/testing/aspect";
import { parseHostSettings } from "../../src/testing/aspect/host-settings";

const ADD_HEADER = new URL("../../examples/add_header/build/add_header.wasm", import.meta.url);

/** Strings "in the module": pointer = index + 1, so 0 stays the null pointer. */
function fakeModule() {
  const strings: string[] = [];
  return {
    __getString: (pointer: number) => {
      const text = strings[pointer - 1];
      if (text === undefined) throw new Error(`bad string pointer ${pointer}`);
      return text;
    },
    __newString: (text: string) => strings.push(text),
  };
}

function setup(filters = new FilterLibrary(ADD_HEADER)) {
  const module = fakeModule();
  const imports = createProxyWasmTestImports(filters, () => module) as unknown as Record<string, (...args: unknown[]) => unknown>;
  const s = (text: string) => module.__newString(text);
  const read = (pointer: unknown) => module.__getString(pointer as number);
  /** The error the module would abort with ("" when none), as errors.ts reads it. */
  const error = () => (imports.has_error() === 1 ? read(imports.take_error()) : "");
  return { imports, s, read, error };
}

test("field lists: round trip with separators, digits, empty fields and non-ASCII text", () => {
  const fields = ["", "a:b", "12:x", "héllo ✓", ":"];
  assert.equal(encodeFields(fields), '0:3:a:b4:12:x7:héllo ✓1::');
  assert.deepEqual(decodeFields(encodeFields(fields)), fields);
  assert.deepEqual(decodePairList(encodePairList([["x-a", "1"], ["", ""]])), [["x-a", "1"], ["", ""]]);
  assert.deepEqual(decodeFields(""), []);
});

test("field lists: malformed text is rejected with the offset", () => {
  assert.throws(() => decodeFields("3:ab"), { message: "malformed field list at offset 0: length 3 runs past the end" });
  assert.throws(() => decodeFields("1:ax"), { message: "malformed field list at offset 3: expected <length>:" });
  assert.throws(() => decodeFields("-1:"), { message: "malformed field list at offset 0: expected <length>:" });
  assert.throws(() => decodePairList("1:a"), { message: "malformed pair list: 1 fields, expected an even count" });
});

test("host settings: every key, and bad keys or values named in the error", () => {
  const settings = parseHostSettings([
    ["filter", "auth"], ["pluginConfig", "{}"], ["vmConfig", "v"], ["vmId", "id"], ["pluginName", "p"], ["rootId", "r"],
    ["logLevel", "warn"], ["cluster", "a"], ["cluster", "b"], ["clockStartMs", "1000"], ["failurePolicy", "fail_open"],
    ["strict", "true"], ["allowOnHeadersStopIteration", "false"], ["env:HOME", "/x"],
  ]);
  assert.deepEqual(settings, {
    filterName: "auth", pluginConfig: "{}", vmConfig: "v", vmId: "id", pluginName: "p", rootId: "r", logLevel: "warn",
    clusters: ["a", "b"], clockStartMs: 1000, failurePolicy: "fail_open", strict: true, allowOnHeadersStopIteration: false,
    environment: { HOME: "/x" }, trace: false,
  });
  assert.throws(() => parseHostSettings([["colour", "red"]]), { message: 'TestHost: unknown setting "colour"' });
  assert.throws(() => parseHostSettings([["env:", "x"]]), { message: 'TestHost: unknown setting "env:"' });
  assert.throws(() => parseHostSettings([["logLevel", "loud"]]), { message: 'TestHost setting logLevel: "loud" is not one of trace, debug, info, warn, error, critical, off' });
  assert.throws(() => parseHostSettings([["strict", "yes"]]), { message: 'TestHost setting strict: expected "true" or "false", got "yes"' });
  assert.throws(() => parseHostSettings([["clockStartMs", ""]]), { message: 'TestHost setting clockStartMs: "" is not a number' });
  assert.throws(() => parseHostSettings([["failurePolicy", "x"]]), { message: 'TestHost setting failurePolicy: "x" is not one of fail_closed, fail_open, fail_reload' });
});

test("filter library: unknown names and missing files say what is wrong", () => {
  const library = new FilterLibrary(undefined, { auth: "does/not/exist.wasm" }, "/base");
  assert.throws(() => library.bytes(""), { message: 'no default filter: give withProxyWasmHost a `filter` (known filters: "auth")' });
  assert.throws(() => library.bytes("other"), { message: 'no filter named "other" in the as-pect config (known filters: "auth")' });
  assert.throws(() => library.bytes("auth"), { message: "cannot read filter /base/does/not/exist.wasm (ENOENT); build the filter before running the specs" });
  assert.throws(() => new FilterLibrary(ADD_HEADER, { "": ADD_HEADER }), { message: "withProxyWasmHost: a named filter needs a non-empty name (use `filter` for the default one)" });
});

test("imports: a whole add_header stream, with strings and pair lists crossing the boundary", () => {
  const { imports, s, read, error } = setup();
  const host = imports.host_start(s(encodePairList([["pluginConfig", '{"name": "x-a", "value": "1"}']])));
  assert.equal(error(), "");
  assert.equal(read(imports.host_start_error(host)), "");
  const stream = imports.stream_new(host, s(""));
  const request = encodePairList([[":method", "GET"], [":path", "/"], [":authority", "a"]]);
  assert.equal(read(imports.stream_headers(stream, 0, s(request), 1)), "Continue");
  assert.equal(imports.side_reached(stream, 0), 1);
  assert.equal(imports.side_reached(stream, 1), 0);
  assert.equal(read(imports.stream_headers(stream, 1, s(encodePairList([[":status", "200"]])), 0)), "Continue");
  assert.equal(read(imports.stream_body(stream, 1, s("ok"), 1)), "Continue");
  assert.deepEqual(decodePairList(read(imports.side_headers(stream, 1))), [[":status", "200"], ["x-a", "1"], ["location", "envoy-wasm"], ["hello", "world!"]]);
  assert.equal(read(imports.side_body(stream, 1)), "ok");
  assert.equal(imports.side_ended(stream, 1), 1);
  assert.equal(imports.local_status(stream), 0);
  assert.equal(imports.local_grpc_status(stream), -1);
  imports.stream_complete(stream);
  assert.equal(error(), "");
});

test("imports: failures are stored, never thrown, and reported once", () => {
  const { imports, s, read, error } = setup();
  assert.equal(imports.host_start(s(encodePairList([["filter", "nope"]]))), 0);
  assert.equal(error(), 'no filter named "nope" in the as-pect config (known filters: (default))');
  assert.equal(error(), "", "taking the error clears it");
  assert.equal(imports.stream_new(99, s("")), 0);
  assert.equal(error(), "no TestHost with handle 99");
  assert.equal(read(imports.stream_headers(42, 0, s(""), 0)), "");
  assert.equal(error(), "no HttpStream with handle 42");
  assert.equal(imports.host_start(s("3:ab")), 0);
  assert.equal(error(), "malformed field list at offset 0: length 3 runs past the end");

  const good = imports.host_start(s(""));
  imports.host_advance_time(good, -1n);
  assert.equal(error(), "advanceTime: -1 ms is negative");
  assert.equal(imports.logs_contains(good, s("x"), s("loud")), 0);
  assert.equal(error(), '"loud" is not a log level (trace, debug, info, warn, error, critical, off)');
  assert.equal(imports.host_metric(good, s("missing")), 0n);
  assert.equal(error(), 'no metric named "missing"');
  imports.callout_fail(good, 7);
  assert.equal(error(), "no pending HTTP callout with token 7");
  const stream = imports.stream_new(good, s(""));
  assert.equal(imports.side_reached(stream, 2), 0);
  assert.equal(error(), "stream side must be 0 (upstream) or 1 (downstream), got 2");
});

test("imports: a plugin that fails to start keeps its logs; operations needing it fail with the reason", () => {
  const { imports, s, read, error } = setup();
  const host = imports.host_start(s(encodePairList([["pluginConfig", "[1]"]])));
  assert.equal(error(), "");
  assert.equal(read(imports.host_start_error(host)), "PluginStartError: Failed to configure Wasm plugin in proxy_on_configure");
  assert.deepEqual(decodeFields(read(imports.logs_messages(host, s("error")))), ["expected an object, got an array (1:1)"]);
  assert.deepEqual(decodeFields(read(imports.logs_messages(host, s("info")))), []);
  assert.equal(imports.stream_new(host, s("")), 0);
  assert.equal(error(), "the plugin did not start: PluginStartError: Failed to configure Wasm plugin in proxy_on_configure");
});

test("withProxyWasmHost: defaults, and the reserved import module is refused", async () => {
  const config = withProxyWasmHost({ filter: ADD_HEADER });
  assert.deepEqual(config.entries, ["assembly/__tests__/**/*.spec.ts"]);
  assert.deepEqual(config.include, ["assembly/__tests__/**/*.include.ts"]);
  assert.deepEqual(config.disclude, [/node_modules/]);
  assert.equal(config.outputBinary, false);
  const clash = withProxyWasmHost({ filter: ADD_HEADER, imports: { proxy_wasm_test: {} } });
  await assert.rejects(
    clash.instantiate(new WebAssembly.Memory({ initial: 1 }), (...i) => Object.assign({}, ...i), async () => ({ exports: {} }), new Uint8Array()),
    { message: 'withProxyWasmHost: the import module "proxy_wasm_test" is reserved for the test API' },
  );
  // The author's own modules and env entries reach as-pect's createImports next to ours.
  let seen: Record<string, Record<string, unknown>> = {};
  const own = withProxyWasmHost({ filter: ADD_HEADER, imports: { mock: { f: () => 1 }, env: { seed: () => 0 } } });
  const memory = new WebAssembly.Memory({ initial: 1 });
  await own.instantiate(memory, (imports) => (seen = imports), async () => ({ exports: {} }), new Uint8Array());
  assert.deepEqual(Object.keys(seen).sort(), ["env", "mock", "proxy_wasm_test"]);
  assert.equal(seen.env.memory, memory);
  assert.equal(typeof seen.env.seed, "function");
  assert.equal(typeof seen.proxy_wasm_test.host_start, "function");
});

test("imports: gRPC, TCP, plugin and property failures are stored with their messages", () => {
  const { imports, s, read, error } = setup();
  const host = imports.host_start(s(""));
  imports.grpc_close(host, 5, 0, s(""));
  assert.equal(error(), "no pending gRPC call with token 5");
  assert.equal(read(imports.grpc_field(host, 5, s("kind"))), "");
  assert.equal(error(), "no pending gRPC call with token 5");
  assert.equal(read(imports.tcp_new_connection(77)), "");
  assert.equal(error(), "no TcpConnection with handle 77");
  assert.equal(imports.plugin_root_context_id(78), 0);
  assert.equal(error(), "no Plugin with handle 78");
  assert.equal(imports.stream_new(host, s("1:x3:1:a0:")), 0);
  assert.equal(error(), 'property a: unknown kind "x" (expected s, b, i, t, f or n)');
  assert.equal(imports.tcp_new(host, s("1:i3:1:a1:z")), 0);
  assert.equal(error(), 'property a: "z" is not an integer');
  assert.equal(read(imports.host_trace_lines(host)), "");
  assert.equal(error(), "traceLines: create the test host with { trace: true } or { trace: (line) => ... }");
  const tcp = imports.tcp_new(host, s(""));
  assert.equal(read(imports.tcp_data(tcp, 2, s(""), 0)), "");
  assert.equal(error(), "TCP data must come from 0 (downstream) or 1 (upstream), got 2");
  assert.equal(read(imports.stream_body_bytes(imports.stream_new(host, s("")), 0, s("\u0100"), 0)), "");
  assert.equal(error(), "malformed byte string at offset 0: code unit 256 is not a byte");
});

test("imports: headers cross as byte strings, so values that are not UTF-8 survive", () => {
  const { imports, s, read, error } = setup();
  const host = imports.host_start(s(encodePairList([["pluginConfig", '{"name": "x-a", "value": "1"}']])));
  const stream = imports.stream_new(host, s(""));
  const raw = String.fromCharCode(0xc3, 0x28, 0xff);
  imports.stream_headers(stream, 0, s(encodePairList([[":path", "/"], ["x-raw", raw]])), 0);
  assert.equal(error(), "");
  assert.deepEqual(decodePairList(read(imports.side_headers(stream, 0))), [[":path", "/"], ["x-raw", raw]]);
  imports.stream_body_bytes(stream, 0, s(raw), 1);
  assert.equal(error(), "");
  assert.equal(read(imports.side_body_bytes(stream, 0)), raw);
});
