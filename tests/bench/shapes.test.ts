// The bench compares each SDK filter with its floor, so the two must do the same work: the same
// hostcalls in the same order, and the same headers upstream and downstream. Also that the
// floors decide as the filters do when the request lacks what they look for.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createTestHost, type FlowInput, type HttpCalloutAnswer } from "../../src/testing";
import { PluginStartError } from "../../src/host";
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

/** The Proxy-Wasm callbacks a module exports, sorted. */
const callbackExports = (wasm: Uint8Array) =>
  WebAssembly.Module.exports(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>)).map((e) => e.name).filter((name) => name.startsWith("proxy_on_")).sort();

for (const shape of SHAPES) {
  test(`bench shape ${shape.name}: the floor exports exactly the SDK module's callbacks, so the host makes the same calls into both`, () => {
    const { sdk, floor } = modules.get(shape.name)!;
    assert.deepEqual(callbackExports(floor), callbackExports(sdk));
  });
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

// F7: what both modules read from the configuration, seen through the headers they then add.
const F7_ALLOWED = "/api/v2/checkout/payments/intents/confirmations/8f2c";
function f7Request(wasm: Uint8Array, pluginConfig: string | object, path = F7_ALLOWED, reconfigure = 0) {
  const host = createTestHost({ wasm, pluginConfig, pluginName: "bench", logLevel: "warn" });
  for (let i = 0; i < reconfigure; i++) host.reconfigure();
  const result = host.flow({ request: { headers: [[":method", "GET"], [":path", path], [":authority", "bench.local"]] } });
  return result.upstream.headers!.slice(3);
}

/** True if the module refuses the configuration: on_configure returns false and the host says so. */
function f7Refuses(wasm: Uint8Array, pluginConfig: string | Uint8Array): boolean {
  try {
    createTestHost({ wasm, pluginConfig, pluginName: "bench", logLevel: "warn" });
    return false;
  } catch (error) {
    assert.ok(error instanceof PluginStartError && error.stage === "configure", String(error));
    return true;
  }
}

test("bench shape f7_json_config: both read the configuration into the header they add on an allowed path, and keep it over reconfigures", () => {
  const shape = SHAPES.find((s) => s.name === "f7_json_config")!;
  const config = shape.pluginConfig as { headerName: string; headerValue: string; rateLimit: { name: string } };
  assert.ok(JSON.stringify(config).length > 900, "about 1 KiB of configuration");
  const rateLimit: [string, string] = ["x-rate-limit", config.rateLimit.name];
  for (const wasm of Object.values(modules.get(shape.name)!)) {
    assert.deepEqual(f7Request(wasm, config), [[config.headerName, config.headerValue], rateLimit]);
    assert.deepEqual(f7Request(wasm, config, F7_ALLOWED, 3), [[config.headerName, config.headerValue], rateLimit]);
    // The last of the ten prefixes matches too; a path no prefix starts is only rate-limited.
    assert.deepEqual(f7Request(wasm, config, "/internal/metrics/prometheus/federate/by-namespace"), [[config.headerName, config.headerValue], rateLimit]);
    assert.deepEqual(f7Request(wasm, config, "/api/v2/checkout"), [rateLimit]);
    assert.deepEqual(f7Request(wasm, { ...config, enabled: false }), []);
    assert.deepEqual(f7Request(wasm, { ...config, allowedPaths: [] }), [rateLimit]);
  }
});

test("bench shape f7_json_config: both decode escapes and UTF-8 alike, and take defaults, spaces, -0 and repeated members as the SDK does", () => {
  const shape = SHAPES.find((s) => s.name === "f7_json_config")!;
  const accepted: [string, [string, string][]][] = [
    // Escaped key and value: \u escapes (a surrogate pair is one character, a lone one stays), simple escapes, raw UTF-8.
    [String.raw`{"header\u004eame":"x-\u0041b","headerValue":"\"q\"\\\/\u00e9\ud83d\ude00é€😀\ud83d-","rateLimit":{"name":"r\tl"},"allowedPaths":["/"]}`,
      [["x-ab", "\"q\"\\/é😀é€😀\u{fffd}\u{fffd}\u{fffd}-"], ["x-rate-limit", "r\tl"]]],
    [` \n{ "rateLimit" : { "burst" : 0 , "name" : "n" } ,\t"headerName":"h", "headerValue":"v", "allowedPaths" : [ "/a" , "/api" ] , "timeoutMs": -0 }\r\n`,
      [["h", "v"], ["x-rate-limit", "n"]]],
    // A repeated member: the last one counts, and a repeated object starts from its defaults.
    [`{"headerName":"first","headerName":"second","headerValue":"v","allowedPaths":["/nowhere"],"allowedPaths":["/api"],"rateLimit":{"name":"a"},"rateLimit":{"name":"b"},"enabled":false,"enabled":true}`,
      [["second", "v"], ["x-rate-limit", "b"]]],
    [`{"headerName":"h","headerValue":"","rateLimit":{"name":"","requestsPerSecond":4294967295},"upstreamCluster":"","timeoutMs":0,"allowedPaths":[""]}`,
      [["h", ""], ["x-rate-limit", ""]]],
  ];
  for (const [config, headers] of accepted) {
    const [fromSdk, fromFloor] = Object.values(modules.get(shape.name)!).map((wasm) => f7Request(wasm, config, "/api/x"));
    assert.deepEqual(fromSdk, fromFloor, config);
    // The host lower-cases header names, and its decoder shows each of a lone surrogate's 3 bytes (WTF-8) as U+FFFD.
    assert.deepEqual(fromSdk, headers, config);
  }
});

test("bench shape f7_json_config: both refuse the same invalid configurations (proxy_on_configure returns false)", () => {
  const shape = SHAPES.find((s) => s.name === "f7_json_config")!;
  const valid = `{"headerName":"h","headerValue":"v","rateLimit":{"name":"n"}}`;
  const withMember = (member: string) => `{"headerName":"h","headerValue":"v","rateLimit":{"name":"n"},${member}}`;
  const refused: (string | Uint8Array)[] = [
    "", "{}", "[]", "null", `"text"`, valid.slice(0, -1), valid + "x", valid + "}", `{"headerName":"h",}`,
    // Missing required members, at the root and in the nested object.
    `{"headerValue":"v","rateLimit":{"name":"n"}}`, `{"headerName":"h","rateLimit":{"name":"n"}}`,
    `{"headerName":"h","headerValue":"v"}`, `{"headerName":"h","headerValue":"v","rateLimit":{}}`,
    // Unknown members, wrong kinds.
    withMember(`"colour":"red"`), `{"headerName":"h","headerValue":"v","rateLimit":{"name":"n","extra":1}}`,
    withMember(`"timeoutMs":"2500"`), withMember(`"timeoutMs":null`), withMember(`"enabled":1`), withMember(`"enabled":"true"`),
    withMember(`"allowedPaths":"/"`), withMember(`"allowedPaths":["/",3]`), withMember(`"allowedPaths":[null]`),
    withMember(`"upstreamCluster":null`), `{"headerName":1,"headerValue":"v","rateLimit":{"name":"n"}}`,
    `{"headerName":"h","headerValue":"v","rateLimit":[]}`, `{"headerName":"h","headerValue":"v","rateLimit":null}`,
    // Integers out of range or not integers, and numbers that are not JSON.
    withMember(`"timeoutMs":-1`), withMember(`"timeoutMs":4294967296`), withMember(`"timeoutMs":99999999999999999999`),
    withMember(`"timeoutMs":2.5`), withMember(`"timeoutMs":1e3`), withMember(`"timeoutMs":1E3`), withMember(`"timeoutMs":01`),
    withMember(`"timeoutMs":-`), withMember(`"timeoutMs":+1`), withMember(`"timeoutMs":2.`),
    // Literals and structure.
    withMember(`"enabled":tru`), withMember(`"enabled":True`), withMember(`"allowedPaths":["/",]`), withMember(`"allowedPaths":[,]`),
    `{"headerName":"h" "headerValue":"v","rateLimit":{"name":"n"}}`, `{"headerName":"h","headerValue":"v","rateLimit":{"name":"n"}`,
    // Strings: bad escapes, control characters, invalid UTF-8 (stray continuation, overlong, surrogate, past U+10FFFF, truncated).
    withMember(String.raw`"upstreamCluster":"\x"`), withMember(String.raw`"upstreamCluster":"\u12"`), withMember(String.raw`"upstreamCluster":"\u12g4"`),
    withMember(`"upstreamCluster":"a\tb"`), withMember(`"upstreamCluster":"a\nb"`), withMember(`"upstreamCluster":"open`),
    ...[[0x80], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xff]].map((bytes) => {
      const [head, tail] = withMember(`"upstreamCluster":"@"`).split("@");
      return new Uint8Array([...Buffer.from(head), ...bytes, ...Buffer.from(tail)]);
    }),
  ];
  for (const [which, wasm] of Object.entries(modules.get(shape.name)!)) {
    assert.equal(f7Refuses(wasm, valid), false);
    const accepted = refused.filter((config) => !f7Refuses(wasm, config)).map((config) => typeof config === "string" ? config : Buffer.from(config).toString("hex"));
    assert.deepEqual(accepted, [], `${which} accepted them`);
  }
});
