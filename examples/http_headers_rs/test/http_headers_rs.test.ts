import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "proxy-wasm-as/testing";

const WASM = new URL("../build/http_headers_rs.wasm", import.meta.url);

test("http_headers_rs: /hello is answered locally with 200, two headers and 'Hello, World!\\n'", () => {
  const host = createTestHost({ strict: true, wasm: WASM });
  const stream = host.http();
  const status = stream.requestHeaders({ ":authority": "localhost:10000", ":path": "/hello", ":method": "GET", "user-agent": "curl/8.5.0" }, { endOfStream: true });
  assert.equal(stream.contextId, 2);
  assert.equal(status, "StopAllIterationAndWatermark", "a local response stops the request");
  assert.equal(stream.upstream.headers, null, "the request never reaches the upstream");
  assert.deepEqual(stream.localResponse, {
    status: 200,
    details: "",
    body: "Hello, World!\n",
    headers: [["hello", "World"], ["powered-by", "proxy-wasm"]],
    grpcStatus: undefined,
  });
  assert.equal(stream.downstream.status, 200);
  assert.equal(stream.downstream.header("hello"), "World");
  assert.equal(stream.downstream.header("powered-by"), "proxy-wasm");
  assert.equal(stream.downstream.body, "Hello, World!\n");
  assert.equal(Buffer.byteLength(stream.downstream.body), 14);
  stream.complete();

  assert.deepEqual(host.logs.at("info"), [
    "#2 -> :authority: localhost:10000",
    "#2 -> :path: /hello",
    "#2 -> :method: GET",
    "#2 -> user-agent: curl/8.5.0",
    // The local reply goes through the response callbacks like any response.
    "#2 <- :status: 200",
    "#2 <- hello: World",
    "#2 <- powered-by: proxy-wasm",
    "#2 <- content-length: 14",
    "#2 <- content-type: text/plain",
    "#2 completed.",
  ]);
});

test("http_headers_rs: any other path continues to the route and every header is logged both ways", () => {
  const host = createTestHost({ strict: true, wasm: WASM });
  const result = host.flow({
    request: { headers: [[":authority", "localhost:10000"], [":path", "/"], [":method", "GET"], ["accept", "*/*"]] },
    response: { headers: [[":status", "200"], ["content-length", "32"], ["content-type", "text/plain"]], body: "Request /hello and be welcomed!\n" },
  });
  assert.equal(result.localResponse, null);
  assert.deepEqual(result.upstream.headers, [[":authority", "localhost:10000"], [":path", "/"], [":method", "GET"], ["accept", "*/*"]]);
  assert.equal(result.downstream.body, "Request /hello and be welcomed!\n");
  assert.deepEqual(host.logs.at("info"), [
    "#2 -> :authority: localhost:10000",
    "#2 -> :path: /",
    "#2 -> :method: GET",
    "#2 -> accept: */*",
    "#2 <- :status: 200",
    "#2 <- content-length: 32",
    "#2 <- content-type: text/plain",
    "#2 completed.",
  ]);
});

test("http_headers_rs: only the exact path /hello is special", () => {
  const host = createTestHost({ strict: true, wasm: WASM });
  for (const path of ["/hello/", "/hello?x=1", "/Hello", "/hell"]) {
    const result = host.flow({ request: { headers: { ":path": path, ":method": "GET", ":authority": "a" } } });
    assert.equal(result.localResponse, null, path);
    assert.equal(result.upstream.header(":path"), path);
  }
});

test("http_headers_rs: each stream logs with its own context id", () => {
  const host = createTestHost({ strict: true, wasm: WASM });
  const first = host.http();
  const second = host.http();
  first.requestHeaders({ ":path": "/a" }, { endOfStream: true });
  second.requestHeaders({ ":path": "/b" }, { endOfStream: true });
  second.complete();
  first.complete();
  assert.deepEqual(host.logs.at("info"), ["#2 -> :path: /a", "#3 -> :path: /b", "#3 completed.", "#2 completed."]);
});

test("http_headers_rs: nothing is logged below info when the host level is warn", () => {
  const host = createTestHost({ strict: true, wasm: WASM, logLevel: "warn" });
  const result = host.flow({ request: { headers: { ":path": "/hello" } } });
  assert.equal(result.downstream.body, "Hello, World!\n");
  assert.deepEqual(host.logs.messages, []);
});
