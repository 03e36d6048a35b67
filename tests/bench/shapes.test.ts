// The bench compares each SDK filter with its floor, so the two must do the same work: the same
// hostcalls in the same order, and the same headers upstream and downstream. Also that the
// floors decide as the filters do when the request lacks what they look for.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createTestHost, type FlowInput } from "../../src/testing";
import { initWat } from "../helpers/wat";
import { buildShapes, floorModule, playShape, sdkModulePath, SHAPES, type Shape } from "../../bench/shapes";

const modules = new Map<string, { sdk: Uint8Array; floor: Uint8Array }>();

before(async () => {
  await initWat();
  await buildShapes();
  for (const shape of SHAPES) modules.set(shape.name, { sdk: new Uint8Array(readFileSync(sdkModulePath(shape))), floor: floorModule(shape) });
}, { timeout: 600_000 });

function play(wasm: Uint8Array, shape: Shape, flow: FlowInput) {
  const hostcalls: string[] = [];
  let recording = false;
  const host = createTestHost({ wasm, pluginConfig: shape.pluginConfig, pluginName: "bench", logLevel: "warn", onHostcall: (_module, name) => { if (recording) hostcalls.push(name); } });
  host.flow(flow); // the first request may set up what later ones reuse
  recording = true;
  const result = host.flow(flow);
  return { hostcalls, upstream: result.upstream.headers, downstream: result.downstream.headers };
}

/** The hostcalls of the shape's second unit of work (the first may set up what later ones reuse). */
function playUnit(wasm: Uint8Array, shape: Shape) {
  const hostcalls: string[] = [];
  let recording = false;
  const host = createTestHost({ wasm, pluginConfig: shape.pluginConfig, pluginName: "bench", logLevel: "warn", onHostcall: (_module, name) => { if (recording) hostcalls.push(name); } });
  playShape(shape, host);
  recording = true;
  playShape(shape, host);
  return hostcalls;
}

for (const shape of SHAPES) {
  test(`bench shape ${shape.name}: the SDK filter and its floor make the same hostcalls and send the same headers`, () => {
    const { sdk, floor } = modules.get(shape.name)!;
    if (shape.play === undefined) {
      const fromSdk = play(sdk, shape, shape.flow);
      assert.deepEqual(play(floor, shape, shape.flow), fromSdk);
      assert.ok(fromSdk.hostcalls.length > 0);
    } else {
      // Shapes with their own unit of work check their outputs in their own tests below.
      const fromSdk = playUnit(sdk, shape);
      assert.deepEqual(playUnit(floor, shape), fromSdk);
      assert.ok(fromSdk.length > 0);
    }
  });
}

test("bench shape f1_add_header: both add x-f1: yes to the response", () => {
  const shape = SHAPES.find((s) => s.name === "f1_add_header")!;
  for (const wasm of Object.values(modules.get(shape.name)!)) {
    const { downstream, hostcalls } = play(wasm, shape, shape.flow);
    assert.deepEqual(downstream!.at(-1), ["x-f1", "yes"]);
    assert.deepEqual(hostcalls, ["proxy_add_header_map_value"]);
  }
});

test("bench shape f2_headers: x-f2 is added only with user-agent and a :path starting with /; x-powered-by is replaced", () => {
  const shape = SHAPES.find((s) => s.name === "f2_headers")!;
  const requestHeaders = shape.flow.request.headers as [string, string][];
  const withoutUserAgent = { ...shape.flow, request: { headers: requestHeaders.filter(([name]) => name !== "user-agent") } };
  const relativePath = { ...shape.flow, request: { headers: requestHeaders.map(([n, v]): [string, string] => [n, n === ":path" ? "*" : v]) } };
  // A name that only starts like user-agent is not user-agent.
  const longerName = { ...shape.flow, request: { headers: requestHeaders.map(([n, v]): [string, string] => [n === "user-agent" ? "user-agents" : n, v]) } };
  for (const wasm of Object.values(modules.get(shape.name)!)) {
    const full = play(wasm, shape, shape.flow);
    assert.deepEqual(full.upstream!.filter(([name]) => name === "x-f2"), [["x-f2", "yes"]]);
    assert.deepEqual(full.downstream!.filter(([name]) => name.startsWith("x-")), [["x-f2-response", "yes"]]);
    for (const flow of [withoutUserAgent, relativePath, longerName]) {
      assert.equal(play(wasm, shape, flow).upstream!.some(([name]) => name === "x-f2"), false);
    }
  }
});

/** ASCII letters uppercased, every other byte as it was. */
const uppercased = (bytes: Uint8Array) => bytes.map((c) => (c >= 0x61 && c <= 0x7a ? c - 0x20 : c));

test("bench shape f3_body_rewrite: both send the 4 KiB body upstream with its ASCII letters uppercased and its other bytes unchanged", () => {
  const shape = SHAPES.find((s) => s.name === "f3_body_rewrite")!;
  const body = shape.flow.request.body as Uint8Array;
  assert.equal(body.length, 4_096);
  const expected = uppercased(body);
  // The body has bytes the transform must keep: digits, punctuation, UTF-8 (é is C3 A9).
  assert.ok(expected.includes(0xc3) && expected.includes(0x31) && expected.includes(0x7b));
  for (const wasm of Object.values(modules.get(shape.name)!)) {
    const hostcalls: string[] = [];
    const host = createTestHost({ wasm, pluginName: "bench", logLevel: "warn", onHostcall: (_module, name) => { hostcalls.push(name); } });
    const result = host.flow(shape.flow);
    assert.deepEqual(result.upstream.bodyBytes, expected);
    assert.equal(result.upstream.ended, true);
    assert.deepEqual(hostcalls.filter((name) => name.includes("buffer")), ["proxy_get_buffer_bytes", "proxy_set_buffer_bytes"]);
  }
});

test("bench shape f3_body_rewrite: a body in two frames is buffered (StopIterationAndBuffer) and rewritten whole at its end", () => {
  const shape = SHAPES.find((s) => s.name === "f3_body_rewrite")!;
  const body = shape.flow.request.body as Uint8Array;
  for (const wasm of Object.values(modules.get(shape.name)!)) {
    const hostcalls: string[] = [];
    const host = createTestHost({ wasm, pluginName: "bench", logLevel: "warn", onHostcall: (_module, name) => { hostcalls.push(name); } });
    const stream = host.http();
    stream.requestHeaders(shape.flow.request.headers);
    assert.equal(stream.requestBody(body.subarray(0, 1_000)), "StopIterationAndBuffer");
    assert.equal(stream.upstream.bodyBytes.length, 0);
    assert.deepEqual(hostcalls.filter((name) => name.includes("buffer")), []);
    assert.equal(stream.requestBody(body.subarray(1_000), { endOfStream: true }), "Continue");
    assert.deepEqual(stream.upstream.bodyBytes, uppercased(body));
    assert.deepEqual(hostcalls.filter((name) => name.includes("buffer")), ["proxy_get_buffer_bytes", "proxy_set_buffer_bytes"]);
  }
});

test("bench shape f4_metric_increment: both define f4_requests once, on the first request, and count every request", () => {
  const shape = SHAPES.find((s) => s.name === "f4_metric_increment")!;
  for (const wasm of Object.values(modules.get(shape.name)!)) {
    const hostcalls: string[] = [];
    const host = createTestHost({ wasm, pluginName: "bench", logLevel: "warn", onHostcall: (_module, name) => { hostcalls.push(name); } });
    assert.equal(host.metric("f4_requests"), undefined); // not defined before the first request
    for (let i = 0; i < 7; i++) playShape(shape, host);
    assert.equal(host.metric("f4_requests"), 7n);
    assert.equal(host.metric("wasmcustom.f4_requests"), 7n);
    assert.deepEqual(hostcalls.filter((name) => name.includes("metric")), ["proxy_define_metric", ...Array(7).fill("proxy_increment_metric")]);
    // A stream that ends before any request headers is not counted.
    host.http().complete();
    assert.equal(host.metric("f4_requests"), 7n);
  }
});
