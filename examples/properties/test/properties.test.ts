import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "proxy-wasm-as/testing";
import type { PropertyTree } from "proxy-wasm-as";

const wasm = new URL("../build/properties.wasm", import.meta.url);

const get = (path: string): [string, string][] => [[":method", "GET"], [":path", path], [":authority", "example.com"]];

/** Per-stream route metadata, as Envoy exposes it for a route whose Wasm filter metadata says `auth: <name>`. */
function routeAuth(auth: string, legacy = false): PropertyTree {
  const routeMetadata = { filter_metadata: { "envoy.filters.http.wasm": { auth } } };
  return legacy ? { route_metadata: routeMetadata } : { xds: { route_metadata: routeMetadata } };
}

function wasmMessages(host: TestHost, level: string): string[] {
  return host.logs.records.filter((r) => r.source === "wasm" && r.level === level).map((r) => r.message);
}

test("no auth property on the route: logs it and lets the request through", () => {
  const host = createTestHost({ wasm });
  const stream = host.http();
  assert.equal(stream.requestHeaders(get("/three"), { endOfStream: true }), "Continue");
  assert.deepEqual(stream.upstream.headers, get("/three"));
  assert.equal(stream.localResponse, null);
  stream.complete();
  assert.deepEqual(wasmMessages(host, "info"), ["no auth header for route", "2 finished"]);
});

test("auth property `cookie` and a cookie header: Continue", () => {
  const host = createTestHost({ wasm });
  const stream = host.http({ properties: routeAuth("cookie") });
  const headers: [string, string][] = [...get("/one"), ["cookie", "value"]];
  assert.equal(stream.requestHeaders(headers, { endOfStream: true }), "Continue");
  assert.deepEqual(stream.upstream.headers, headers);
  assert.equal(stream.localResponse, null);
  stream.complete();
  assert.deepEqual(wasmMessages(host, "info"), ['auth header is "cookie"', "2 finished"]);
});

test("auth property set but the header is missing: local 401 with no body and gRPC status 16, request paused", () => {
  const host = createTestHost({ wasm });
  const stream = host.http({ properties: routeAuth("authorization") });
  const status = stream.requestHeaders([...get("/two"), ["cookie", "value"]], { endOfStream: true });
  // Envoy turns StopIteration from a headers callback into StopAllIterationAndWatermark.
  assert.equal(status, "StopAllIterationAndWatermark");
  assert.equal(stream.upstream.headers, null);
  assert.deepEqual(stream.localResponse, { status: 401, details: "", body: "", headers: [], grpcStatus: 16 });
  assert.equal(stream.downstream.status, 401);
  assert.equal(stream.downstream.body, "");
  stream.complete();
  assert.deepEqual(wasmMessages(host, "info"), ['auth header is "authorization"', "2 finished"]);
});

test("the routes of the README's Envoy config: /one needs cookie, /two authorization, /three nothing", () => {
  const host = createTestHost({ wasm });
  // The test kit has no router: each stream gets the metadata of the route its path would match.
  const routes: [string, string | null][] = [["/one", "cookie"], ["/two", "authorization"], ["/three", null]];
  const statuses: Record<string, number | undefined> = {};
  for (const [path, auth] of routes) {
    for (const header of ["cookie", "authorization"]) {
      const stream = host.http({ properties: auth === null ? {} : routeAuth(auth) });
      stream.requestHeaders([...get(path), [header, "secret"]], { endOfStream: true });
      if (stream.upstream.headers !== null) stream.responseHeaders([[":status", "200"]], { endOfStream: true });
      stream.complete();
      statuses[`${path} with ${header}`] = stream.downstream.status;
    }
  }
  assert.deepEqual(statuses, {
    "/one with cookie": 200,
    "/one with authorization": 401,
    "/two with cookie": 401,
    "/two with authorization": 200,
    "/three with cookie": 200,
    "/three with authorization": 200,
  });
  // Stream ids count up from 2 (the root context is 1).
  assert.deepEqual(wasmMessages(host, "info"), [
    'auth header is "cookie"', "2 finished",
    'auth header is "cookie"', "3 finished",
    'auth header is "authorization"', "4 finished",
    'auth header is "authorization"', "5 finished",
    "no auth header for route", "6 finished",
    "no auth header for route", "7 finished",
  ]);
});

test("older Envoy: the top-level route_metadata attribute is used when xds.route_metadata is absent", () => {
  const host = createTestHost({ wasm });
  const stream = host.http({ properties: routeAuth("x-api-key", true) });
  assert.equal(stream.requestHeaders(get("/one"), { endOfStream: true }), "StopAllIterationAndWatermark");
  assert.equal(stream.localResponse?.status, 401);
  stream.complete();
  assert.deepEqual(wasmMessages(host, "info"), ['auth header is "x-api-key"', "2 finished"]);
});

test("header names are matched as Envoy stores them (lower case)", () => {
  const host = createTestHost({ wasm });
  const stream = host.http({ properties: routeAuth("x-api-key") });
  assert.equal(stream.requestHeaders([...get("/one"), ["X-Api-Key", "k"]], { endOfStream: true }), "Continue");
  assert.equal(stream.localResponse, null);
  stream.complete();
});
