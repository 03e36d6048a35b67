/**
 * Envoy's per-stream buffer limit in the test kit (the host's HttpStream driver, which the dev
 * proxy uses too). Envoy keeps what a filter buffers in a watermark buffer bounded by the
 * listener's per_connection_buffer_limit_bytes (default 1 MiB); a buffering filter past it fails
 * the stream (envoy source/common/http/filter_manager.cc `requestDataTooLarge`,
 * `responseDataTooLarge`), a streaming one only gets flow control.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createTestHost, type TestHost } from "../../src/testing";
import { statusFilter } from "../helpers/status-filter";

const HTTP_BODY = new URL("../../examples/http_body/build/http_body.wasm", import.meta.url);

const REQUEST_413 = {
  status: 413,
  details: "request_payload_too_large",
  body: "Payload Too Large",
  headers: [],
  grpcStatus: undefined,
};

function wasmInfo(host: TestHost): string[] {
  return host.logs.records.filter((r) => r.source === "wasm" && r.level === "info").map((r) => r.message);
}

describe("buffer limit: a buffering filter's request body", () => {
  it("past the limit: the 413 Payload Too Large local reply, through the plugin's response callbacks", () => {
    const host = createTestHost({ wasm: statusFilter({ requestBody: 1 }), bufferLimitBytes: 1024 });
    const stream = host.http();
    assert.equal(stream.requestHeaders({ ":method": "POST", ":path": "/", "content-length": "2000" }), "Continue");
    assert.equal(stream.requestBody("a".repeat(600)), "StopIterationAndBuffer");
    assert.equal(stream.localResponse, null);
    host.logs.clear();
    // 1200 held > 1024. As in Envoy (the 413 is prepared while the callback runs), the plugin's
    // on_request_body still runs once with the whole buffer, then the reply goes out.
    stream.requestBody("b".repeat(600));
    assert.deepEqual(stream.localResponse, REQUEST_413);
    assert.equal(stream.bufferOverflow, "request");
    assert.deepEqual(stream.downstream.headers, [
      [":status", "413"],
      ["content-length", "17"],
      ["content-type", "text/plain"],
    ]);
    assert.equal(stream.downstream.body, "Payload Too Large");
    assert.equal(stream.downstream.ended, true);
    assert.deepEqual(wasmInfo(host), ["on_request_body", "on_response_headers", "on_response_body"]);
    // The request headers went upstream before the body was buffered; no body byte did.
    assert.equal(stream.upstream.body, "");
    assert.equal(stream.heldRequestBody, "");
    // Later chunks reach no callback.
    host.logs.clear();
    stream.requestBody("c", { endOfStream: true });
    assert.deepEqual(wasmInfo(host), []);
    stream.complete();
  });

  it("exactly at the limit passes: Envoy's watermark fires only above it", () => {
    const host = createTestHost({ wasm: HTTP_BODY, bufferLimitBytes: 1024 });
    const stream = host.http();
    stream.requestHeaders({ "content-length": "1024", "buffer-operation": "append" });
    stream.requestBody("x".repeat(1000));
    stream.requestBody("y".repeat(24), { endOfStream: true });
    assert.equal(stream.localResponse, null);
    assert.equal(stream.bufferOverflow, null);
    assert.equal(stream.upstream.body, "x".repeat(1000) + "y".repeat(24) + "[this is appended body]");
  });

  it("a single chunk the plugin buffers that is itself past the limit: 413 after the callback", () => {
    const host = createTestHost({ wasm: HTTP_BODY, bufferLimitBytes: 100 });
    const stream = host.http();
    stream.requestHeaders({ "content-length": "500" });
    stream.requestBody("z".repeat(101));
    assert.deepEqual(stream.localResponse, REQUEST_413);
    assert.equal(stream.downstream.status, 413);
  });

  it("the default is Envoy's 1 MiB", () => {
    const host = createTestHost({ wasm: statusFilter({ requestBody: 1 }) });
    assert.equal(host.bufferLimitBytes, 1024 * 1024);
    const atLimit = host.http();
    atLimit.requestHeaders({ ":path": "/" });
    atLimit.requestBody(new Uint8Array(1024 * 1024 - 1));
    atLimit.requestBody("!");
    assert.equal(atLimit.localResponse, null);
    assert.equal(atLimit.heldRequestBody.length, 1024 * 1024);
    atLimit.requestBody("!");
    assert.equal(atLimit.bufferOverflow, "request");
    assert.deepEqual(atLimit.localResponse, REQUEST_413);
  });

  it("headers StopAllIterationAndBuffer: what arrives meanwhile counts, and the plugin sees none of it", () => {
    const host = createTestHost({ wasm: statusFilter({ requestHeaders: 3 }), bufferLimitBytes: 10 });
    const stream = host.http();
    assert.equal(stream.requestHeaders({ ":path": "/" }), "StopAllIterationAndBuffer");
    host.logs.clear();
    stream.requestBody("0123456789");
    assert.equal(stream.localResponse, null);
    stream.requestBody("!");
    assert.deepEqual(stream.localResponse, REQUEST_413);
    assert.deepEqual(wasmInfo(host), ["on_response_headers", "on_response_body"]);
    assert.equal(stream.upstream.headers, null);
  });

  it("a gRPC request gets the 413 as a trailers-only gRPC reply", () => {
    const host = createTestHost({ wasm: statusFilter({ requestBody: 1 }), bufferLimitBytes: 4 });
    const stream = host.http();
    stream.requestHeaders({ ":path": "/pkg.Svc/Call", "content-type": "application/grpc" });
    stream.requestBody("12345");
    assert.deepEqual(stream.downstream.headers, [
      [":status", "200"],
      ["content-type", "application/grpc"],
      ["grpc-status", "2"],
      ["grpc-message", "Payload Too Large"],
    ]);
  });
});

describe("buffer limit: a buffering filter's response body", () => {
  it("response headers already sent downstream: the stream is reset (response_payload_too_large)", () => {
    const host = createTestHost({ wasm: HTTP_BODY, bufferLimitBytes: 64 });
    const stream = host.http();
    stream.requestHeaders({ "content-length": "0", "buffer-replace-at": "response" }, { endOfStream: true });
    stream.responseHeaders({ ":status": "200", "content-length": "100" });
    assert.equal(stream.downstream.status, 200);
    assert.equal(stream.responseBody("r".repeat(60)), "StopIterationAndBuffer");
    host.logs.clear();
    stream.responseBody("s".repeat(40));
    assert.equal(stream.resetDetails, "response_payload_too_large");
    assert.equal(stream.bufferOverflow, "response");
    assert.equal(stream.localResponse, null);
    assert.equal(stream.downstream.body, "");
    // The chunk that overflowed never reaches the plugin (Envoy resets as it is added).
    assert.deepEqual(wasmInfo(host), []);
  });

  it("response headers still held (StopAllIterationAndBuffer): the 500 goes straight to the client", () => {
    const host = createTestHost({ wasm: statusFilter({ responseHeaders: 3 }), bufferLimitBytes: 8 });
    const stream = host.http();
    stream.requestHeaders({ ":path": "/" }, { endOfStream: true });
    assert.equal(stream.responseHeaders({ ":status": "200", "x-upstream": "1" }), "StopAllIterationAndBuffer");
    host.logs.clear();
    stream.responseBody("12345678");
    assert.equal(stream.downstream.headers, null);
    stream.responseBody("9");
    assert.deepEqual(stream.localResponse, {
      status: 500,
      details: "response_payload_too_large",
      body: "Internal Server Error",
      headers: [],
      grpcStatus: undefined,
    });
    assert.deepEqual(stream.downstream.headers, [
      [":status", "500"],
      ["content-length", "21"],
      ["content-type", "text/plain"],
    ]);
    assert.equal(stream.downstream.body, "Internal Server Error");
    assert.equal(stream.downstream.ended, true);
    // Envoy's sendDirectLocalReply bypasses the filters: no response callback for the 500.
    assert.deepEqual(wasmInfo(host), []);
    stream.complete();
  });
});

describe("buffer limit: streaming filters only get flow control", () => {
  it("StopIterationAndWatermark past the limit: no error, everything forwarded on continue", () => {
    const host = createTestHost({ wasm: statusFilter({ requestBody: 2, responseBody: 2 }), bufferLimitBytes: 4 });
    const stream = host.http();
    stream.requestHeaders({ ":path": "/" });
    stream.requestBody("0123456789");
    stream.requestBody("abcdefghij", { endOfStream: true });
    assert.equal(stream.localResponse, null);
    assert.equal(stream.bufferOverflow, null);
    assert.equal(stream.heldRequestBody, "0123456789abcdefghij");
    stream.responseHeaders({ ":status": "200" });
    stream.responseBody("0123456789");
    assert.equal(stream.resetDetails, null);
    assert.equal(stream.heldResponseBody, "0123456789");
  });

  it("headers StopAllIterationAndWatermark (and StopIteration, which Envoy widens to it) past the limit: no error", () => {
    for (const value of [1, 4]) {
      const host = createTestHost({ wasm: statusFilter({ requestHeaders: value }), bufferLimitBytes: 4 });
      const stream = host.http();
      assert.equal(stream.requestHeaders({ ":path": "/" }), "StopAllIterationAndWatermark");
      stream.requestBody("0123456789", { endOfStream: true });
      assert.equal(stream.localResponse, null, `status ${value}`);
      assert.equal(stream.heldRequestBody, "0123456789");
    }
  });

  it("past the limit a streaming plugin pauses reading that side, and resumes it once it passed the body on", () => {
    const host = createTestHost({ wasm: statusFilter({ requestBody: 2, requestBodyAtEnd: 0, responseBody: 2 }), bufferLimitBytes: 4 });
    const stream = host.http();
    stream.requestHeaders({ ":path": "/" });
    stream.requestBody("0123");
    assert.deepEqual(stream.watermarks, []);
    stream.requestBody("4");
    assert.deepEqual(stream.watermarks, [{ side: "request", above: true }]);
    stream.requestBody("56789");
    assert.equal(stream.watermarks.length, 1);
    stream.requestBody("!", { endOfStream: true });
    assert.deepEqual(stream.watermarks, [
      { side: "request", above: true },
      { side: "request", above: false },
    ]);
    assert.equal(stream.upstream.body, "0123456789!");
    stream.responseHeaders({ ":status": "200" });
    stream.responseBody("0123456789");
    assert.deepEqual(stream.watermarks.at(-1), { side: "response", above: true });
    assert.equal(stream.localResponse, null);
  });

  it("StopIterationNoBuffer keeps nothing, so nothing counts", () => {
    const host = createTestHost({ wasm: statusFilter({ requestBody: 3 }), bufferLimitBytes: 4 });
    const stream = host.http();
    stream.requestHeaders({ ":path": "/" });
    stream.requestBody("0123456789");
    stream.requestBody("0123456789");
    assert.equal(stream.localResponse, null);
  });
});

describe("buffer limit: the option", () => {
  it("0 turns the limit off", () => {
    const host = createTestHost({ wasm: statusFilter({ requestBody: 1 }), bufferLimitBytes: 0 });
    const stream = host.http();
    stream.requestHeaders({ ":path": "/" });
    stream.requestBody(new Uint8Array(2 * 1024 * 1024));
    assert.equal(stream.localResponse, null);
    assert.equal(stream.heldRequestBody.length, 2 * 1024 * 1024);
  });

  it("applies to streams of added plugins too", () => {
    const host = createTestHost({ wasm: statusFilter({ requestBody: 1 }), bufferLimitBytes: 2 });
    const stream = host.addPlugin({ name: "second" }).http();
    stream.requestHeaders({ ":path": "/" });
    stream.requestBody("123");
    assert.equal(stream.localResponse?.status, 413);
  });

  for (const bad of [-1, 1.5, 2 ** 32, Number.NaN, "1024" as unknown as number]) {
    it(`refuses ${String(bad)} naming the option`, () => {
      assert.throws(() => createTestHost({ wasm: statusFilter({}), bufferLimitBytes: bad }), (error: Error) => {
        assert.ok(error instanceof RangeError);
        assert.match(error.message, /^bufferLimitBytes: expected a whole number of bytes from 0 \(no limit\) to 4294967295, got /);
        return true;
      });
    });
  }
});
