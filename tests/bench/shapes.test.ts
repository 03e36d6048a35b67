// The bench compares each SDK filter with its floor, so the two must do the same work: the same
// hostcalls in the same order, and the same headers upstream and downstream. Also that the
// floors decide as the filters do when the request lacks what they look for.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { FlowInput, HttpCalloutAnswer } from "../../src/testing";
import { initWat } from "../helpers/wat";
import { AUTH_ANSWER, buildShapes, createShapeHost, floorModule, playShape, sdkModulePath, SHAPES, type Shape } from "../../bench/shapes";

const modules = new Map<string, { sdk: Uint8Array; floor: Uint8Array }>();

before(async () => {
  await initWat();
  await buildShapes();
  for (const shape of SHAPES) modules.set(shape.name, { sdk: new Uint8Array(readFileSync(sdkModulePath(shape))), floor: floorModule(shape) });
}, { timeout: 600_000 });

function play(wasm: Uint8Array, shape: Shape, flow: FlowInput) {
  const hostcalls: string[] = [];
  let recording = false;
  const host = createShapeHost(shape, wasm, { onHostcall: (_module, name) => { if (recording) hostcalls.push(name); } });
  host.flow(flow); // the first request may set up what later ones reuse
  recording = true;
  const result = host.flow(flow);
  return { hostcalls, upstream: result.upstream.headers, downstream: result.downstream.headers };
}

/** The hostcalls of the shape's second unit of work (the first may set up what later ones reuse). */
function playUnit(wasm: Uint8Array, shape: Shape) {
  const hostcalls: string[] = [];
  let recording = false;
  const host = createShapeHost(shape, wasm, { onHostcall: (_module, name) => { if (recording) hostcalls.push(name); } });
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

test("bench shape f5_http_callout: both call auth with the same request, add its x-auth-user to the request and resume it; anything but a 200 naming a user gets 403", () => {
  const shape = SHAPES.find((s) => s.name === "f5_http_callout")!;
  const requestHeaders = shape.flow.request.headers as [string, string][];
  const responseHeaders = shape.flow.response!.headers as [string, string][];
  for (const wasm of Object.values(modules.get(shape.name)!)) {
    const host = createShapeHost(shape, wasm);
    /** One request whose callout gets `answer` (a failure for "fail"). */
    const request = (answer: HttpCalloutAnswer | "fail") => {
      const stream = host.http();
      assert.equal(stream.requestHeaders(requestHeaders, { endOfStream: true }), "StopAllIterationAndWatermark");
      assert.equal(stream.upstream.headers, null, "held until the answer");
      const [callout, ...others] = host.callouts.pendingHttp;
      assert.deepEqual(others, []);
      if (answer === "fail") callout.fail();
      else callout.respond(answer);
      if (stream.upstream.headers !== null) stream.responseHeaders(responseHeaders, { endOfStream: true });
      stream.complete();
      return { callout, stream };
    };
    const granted = request(AUTH_ANSWER);
    assert.equal(granted.callout.cluster, "auth");
    assert.deepEqual(granted.callout.headers, [[":method", "GET"], [":path", "/check"], [":authority", "auth.local"]]);
    assert.equal(granted.callout.body, "");
    assert.deepEqual(granted.callout.trailers, []);
    assert.equal(granted.callout.timeoutMs, 5000);
    assert.deepEqual(granted.stream.upstream.headers, [...requestHeaders, ["x-auth-user", "alice"]]);
    assert.equal(granted.stream.downstream.status, 200);
    assert.equal(granted.stream.localResponse, null);
    const deniedAnswers: (HttpCalloutAnswer | "fail")[] = [
      { status: 403, headers: AUTH_ANSWER.headers }, { status: 200 }, { status: 2000, headers: AUTH_ANSWER.headers },
      { headers: [[":status", "20x"], ...AUTH_ANSWER.headers] }, "fail",
    ];
    for (const denied of deniedAnswers) {
      const { stream } = request(denied);
      assert.equal(stream.upstream.headers, null, JSON.stringify(denied));
      assert.equal(stream.localResponse?.status, 403);
      assert.equal(stream.localResponse?.body, "forbidden");
    }
    assert.equal(host.failure, null);
  }
});

test("bench shape f6_shared_data_cas: both count requests in shared data, retry on CasMismatch, and leave a value that is not a count alone", () => {
  const shape = SHAPES.find((s) => s.name === "f6_shared_data_cas")!;
  const KEY = "f6_requests";
  const encode = (text: string) => new TextEncoder().encode(text);
  for (const wasm of Object.values(modules.get(shape.name)!)) {
    const hostcalls: string[] = [];
    /** Set before a request: what another writer stores just before the filter's first write. */
    let interloper: string | undefined;
    const host = createShapeHost(shape, wasm, {
      onHostcall: (_module, name) => {
        hostcalls.push(name);
        if (name === "proxy_set_shared_data" && interloper !== undefined) {
          host.process.sharedData.set(host.vm.vmId, KEY, encode(interloper), 0);
          interloper = undefined;
        }
      },
    });
    const request = () => {
      hostcalls.length = 0;
      host.flow(shape.flow);
      return [...hostcalls];
    };
    assert.equal(host.sharedData(KEY), undefined);
    for (let i = 0; i < 25; i++) assert.deepEqual(request(), ["proxy_get_shared_data", "proxy_set_shared_data"]);
    assert.equal(host.sharedData(KEY), "25");
    // Another writer between the read and the write: CasMismatch, so the filter reads again.
    interloper = "100";
    assert.deepEqual(request(), ["proxy_get_shared_data", "proxy_set_shared_data", "proxy_get_shared_data", "proxy_set_shared_data"]);
    assert.equal(host.sharedData(KEY), "101");
    host.process.sharedData.set(host.vm.vmId, KEY, encode("999999998"), 0);
    request();
    assert.equal(host.sharedData(KEY), "999999999");
    request();
    assert.equal(host.sharedData(KEY), "1000000000", "ten digits is no count: left alone from here");
    for (const notACount of ["1000000000", "", "12a", "-1", " 7"]) {
      host.process.sharedData.set(host.vm.vmId, KEY, encode(notACount), 0);
      assert.deepEqual(request(), ["proxy_get_shared_data"], JSON.stringify(notACount));
      assert.equal(host.sharedData(KEY), notACount);
    }
    assert.equal(host.failure, null);
  }
});
