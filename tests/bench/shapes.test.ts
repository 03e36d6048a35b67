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
