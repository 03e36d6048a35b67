// A filter that removes the response's `:status` or leaves text there: Envoy's filter manager
// checks the head after the encoder filters (envoy source/common/http/filter_manager.cc
// `FilterManager::encodeHeaders` -> `HeaderUtility::checkRequiredResponseHeaders`, envoy
// source/common/http/header_utility.cc) and, the response headers being set already, sends a 502
// straight to the codec (`DownstreamFilterManager::sendDirectLocalReply`). Any number passes:
// `Utility::getResponseStatusOrNullopt` is `absl::SimpleAtoi` into uint64.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../src/testing";
import { parseResponseStatus, requiredResponseHeadersProblem } from "../../src/host/drivers/required-response-headers";
import { HeaderMap } from "../../src/host";
import { initWat, watToWasm } from "../helpers/wat";
import { STATUS_WRITER_WAT } from "../proxy/status-writer-filter";

before(async () => {
  await initWat();
});

const REQUEST: [string, string][] = [[":method", "GET"], [":path", "/"], [":authority", "x"]];
const GRPC_REQUEST: [string, string][] = [[":method", "POST"], [":path", "/pkg.Svc/Call"], [":authority", "x"], ["content-type", "application/grpc"]];

/** Plays a request and an upstream answer whose `x-status` tells the filter what to make of `:status`. */
function play(xStatus: string, request = REQUEST) {
  const host = createTestHost({ wasm: watToWasm(STATUS_WRITER_WAT) });
  const stream = host.http();
  stream.requestHeaders(request, { endOfStream: true });
  const status = stream.responseHeaders([[":status", "200"], ["x-status", xStatus], ["content-length", "5"]]);
  stream.responseBody("hello", { endOfStream: true });
  return { host, stream, status };
}

describe("a :status the filter spoiled, in the test kit", () => {
  it("a :status removed, empty or not a number gets a direct 502 `missing required header: :status` with Envoy's details; the upstream body is dropped", () => {
    for (const value of ["abc", "", "-1", "2e2", "-", "18446744073709551616"]) {
      const { stream, status } = play(value);
      assert.equal(status, "Continue", value);
      assert.deepEqual(stream.downstream.headers, [
        [":status", "502"],
        ["content-length", "32"],
        ["content-type", "text/plain"],
      ], value);
      assert.equal(stream.downstream.body, "missing required header: :status");
      assert.equal(stream.downstream.ended, true);
      assert.equal(stream.localResponse?.status, 502);
      assert.equal(stream.localResponse?.details, "filter_removed_required_response_headers{missing_required_header:_:status}");
      assert.equal(stream.resetDetails, null);
      stream.complete();
    }
  });

  it("any number passes as Envoy lets it (99, 1000, 0200, +204, 2^64-1)", () => {
    for (const value of ["99", "1000", "0200", "+204", "18446744073709551615"]) {
      const { stream } = play(value);
      assert.equal(stream.downstream.headers?.[0]?.[1], value);
      assert.equal(stream.downstream.body, "hello");
      assert.equal(stream.localResponse, null);
      stream.complete();
    }
  });

  it("a gRPC request gets the 502 as trailers-only UNAVAILABLE (14) with the message", () => {
    const { stream } = play("abc", GRPC_REQUEST);
    assert.deepEqual(stream.downstream.headers, [
      [":status", "200"],
      ["content-type", "application/grpc"],
      ["grpc-status", "14"],
      ["grpc-message", "missing required header: :status"],
    ]);
    assert.equal(stream.downstream.body, "");
    assert.equal(stream.downstream.ended, true);
    stream.complete();
  });

  it("an untouched response goes through (the check costs nothing visible)", () => {
    const host = createTestHost({ wasm: watToWasm(STATUS_WRITER_WAT) });
    const stream = host.http();
    stream.requestHeaders(REQUEST, { endOfStream: true });
    stream.responseHeaders([[":status", "404"]], { endOfStream: true });
    assert.deepEqual(stream.downstream.headers, [[":status", "404"]]);
    assert.equal(stream.localResponse, null);
    stream.complete();
  });
});

describe("parseResponseStatus is absl::SimpleAtoi into uint64", () => {
  it("accepts digits with ASCII whitespace around and one leading +", () => {
    assert.equal(parseResponseStatus("200"), 200);
    assert.equal(parseResponseStatus(" \t200\r\n"), 200);
    assert.equal(parseResponseStatus("+200"), 200);
    assert.equal(parseResponseStatus("000200"), 200);
    assert.equal(parseResponseStatus("0"), 0);
    assert.equal(parseResponseStatus(new Uint8Array([0x20, 0x35, 0x30, 0x33])), 503);
  });
  it("refuses everything else", () => {
    for (const value of [undefined, "", " ", "+", "++200", "-200", "-0", "20 0", "2e2", "0x10", "200.0", "abc", "\u0662\u0660\u0660", "18446744073709551616"]) {
      assert.equal(parseResponseStatus(value), undefined, JSON.stringify(value));
    }
  });
  it("names the problem as Envoy does", () => {
    assert.equal(requiredResponseHeadersProblem(HeaderMap.from([["x", "1"]])), "missing required header: :status");
    assert.equal(requiredResponseHeadersProblem(HeaderMap.from([[":status", "204"]])), undefined);
  });
});
