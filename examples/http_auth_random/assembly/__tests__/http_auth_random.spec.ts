// http_auth_random in the host, from AssemblyScript (examples/as-pect.config.js links it): the
// spec answers the filter's callout to httpbin itself.
import { TestHost, Headers, Action, HttpStream } from "proxy-wasm-as/assembly/testing";

// FNV-1a of these bodies: even grants, odd forbids (see the example's README).
const GRANTING = '{"uuid": "7b10a67a-1c67-4199-835b-cbefcd4a63d4"}';
const FORBIDDING = '{"uuid": "aaaaaaaa-1c67-4199-835b-cbefcd4a63d4"}';

function start(host: TestHost): HttpStream {
  const stream = host.http();
  const request = Headers.of([[":method", "GET"], [":path", "/uuid"], [":authority", "localhost"]]);
  expect(stream.requestHeaders(request, true)).toBe(Action.StopAllIterationAndWatermark);
  return stream;
}

describe("http_auth_random", () => {
  it("holds the request and sends its headers to httpbin", () => {
    const host = new TestHost("http_auth_random").cluster("httpbin").start();
    const stream = start(host);
    expect(stream.upstream.reached).toBe(false);
    const callouts = host.pendingHttpCallouts();
    expect(callouts.length).toBe(1);
    expect(callouts[0].cluster).toBe("httpbin");
    expect(callouts[0].headers.get(":path")).toBe("/uuid");
    expect(callouts[0].timeoutMs).toBe(50000);
  });

  it("lets the request through when the answer's hash is even", () => {
    const host = new TestHost("http_auth_random").cluster("httpbin").start();
    const stream = start(host);
    host.pendingHttpCallouts()[0].respond(200, GRANTING);
    expect(host.logs.contains("access granted", "info")).toBe(true);
    expect(stream.upstream.reached).toBe(true);
    expect(stream.localResponse.sent).toBe(false);
  });

  it("answers 403 itself when the answer's hash is odd", () => {
    const host = new TestHost("http_auth_random").cluster("httpbin").start();
    const stream = start(host);
    host.pendingHttpCallouts()[0].respond(200, FORBIDDING);
    expect(host.logs.contains("access forbidden", "info")).toBe(true);
    expect(stream.localResponse.status).toBe(403);
    expect(stream.localResponse.headers.get("powered-by")).toBe("proxy-wasm-as!!");
    expect(stream.upstream.reached).toBe(false);
  });

  it("answers 403 when the callout fails", () => {
    const host = new TestHost("http_auth_random").cluster("httpbin").start();
    const stream = start(host);
    host.pendingHttpCallouts()[0].fail();
    expect(host.logs.contains("http call to httpbin failed", "critical")).toBe(true);
    expect(stream.localResponse.status).toBe(403);
  });

  it("lets the request through at once when httpbin is not a cluster", () => {
    const host = new TestHost("http_auth_random").start();
    const stream = host.http();
    expect(stream.requestHeaders(Headers.of([[":method", "GET"], [":path", "/"], [":authority", "localhost"]]), true)).toBe(Action.Continue);
    expect(host.pendingHttpCallouts().length).toBe(0);
    expect(host.logs.includes("dispatch httpcall failed", "critical")).toBe(true);
    expect(stream.upstream.reached).toBe(true);
  });
});
