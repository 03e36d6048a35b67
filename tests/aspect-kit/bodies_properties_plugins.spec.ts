// Byte bodies and header values (examples/http_body), properties per stream with leakCheck and
// the call trace (examples/properties), and a second plugin on one VM (dispatch_call_on_tick).
import { TestHost, Headers, Action, Properties } from "proxy-wasm-as/assembly/testing";

function bytesOf(values: u8[]): ArrayBuffer {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out.buffer;
}

function routeAuth(auth: string): Properties {
  return new Properties().string(["xds", "route_metadata", "filter_metadata", "envoy.filters.http.wasm", "auth"], auth);
}

function get(path: string): Headers {
  return Headers.of([[":method", "GET"], [":path", path], [":authority", "example.com"]]);
}

describe("http_body: bodies as bytes", () => {
  it("appends to a body that is not UTF-8, byte for byte", () => {
    const host = new TestHost("http_body").start();
    const stream = host.http();
    stream.requestHeaders(Headers.of([["content-length", "3"], ["buffer-operation", "append"]]));
    expect(stream.requestBodyBytes(bytesOf([0xff, 0xfe, 0x00]), false)).toBe(Action.StopIterationAndBuffer);
    expect(stream.heldRequestBody.length).toBeGreaterThan(0);
    expect(stream.requestBody("", true)).toBe(Action.Continue);
    const body = Uint8Array.wrap(stream.upstream.bodyBytes);
    const suffix = "[this is appended body]";
    expect(body.length).toBe(3 + suffix.length);
    expect(body[0]).toBe(0xff);
    expect(body[1]).toBe(0xfe);
    expect(body[2]).toBe(0x00);
    expect(String.UTF8.decode(body.buffer.slice(3))).toBe(suffix);
    expect(stream.upstream.header("content-length")).toBeNull();
  });

  it("replaces a response body given as bytes", () => {
    const host = new TestHost("http_body").start();
    const stream = host.http();
    stream.requestHeaders(Headers.of([["content-length", "15"], ["buffer-replace-at", "response"], ["buffer-operation", "replace"]]));
    stream.requestBody("[original body]", true);
    stream.responseHeaders(Headers.of([[":status", "200"], ["content-length", "15"]]));
    expect(stream.responseBodyBytes(String.UTF8.encode("[original body]"), true)).toBe(Action.Continue);
    expect(stream.downstream.body).toBe("[this is replaced body]");
    expect(host.logs.contains("original response body: [original body]", "info")).toBe(true);
  });

  it("a header value that is not UTF-8 reaches the upstream as the same bytes", () => {
    const host = new TestHost("http_body").start();
    const stream = host.http();
    const headers = new Headers().add("content-length", "1").addBytes("x-raw", bytesOf([0xc3, 0x28, 0x80]));
    expect(stream.requestHeaders(headers)).toBe(Action.Continue);
    const raw = stream.upstream.headers.getBytes("x-raw");
    expect(raw).not.toBeNull();
    const got = Uint8Array.wrap(raw!);
    expect(got.length).toBe(3);
    expect(got[0]).toBe(0xc3);
    expect(got[1]).toBe(0x28);
    expect(got[2]).toBe(0x80);
    expect(stream.upstream.headers.getBytes("absent")).toBeNull();
  });
});

describe("properties: route metadata per stream", () => {
  it("auth `cookie` with a cookie header continues; without the property the route needs nothing", () => {
    const host = new TestHost("properties").start();
    const stream = host.http(routeAuth("cookie"));
    expect(stream.requestHeaders(get("/one").add("cookie", "value"), true)).toBe(Action.Continue);
    stream.complete();
    const open = host.http();
    expect(open.requestHeaders(get("/three"), true)).toBe(Action.Continue);
    open.complete();
    const info = host.logs.messages("info");
    expect(info.length).toBe(4);
    expect(info[0]).toBe('auth header is "cookie"');
    expect(info[1]).toBe("2 finished");
    expect(info[2]).toBe("no auth header for route");
    expect(info[3]).toBe("3 finished");
  });

  it("host properties apply to every stream; a missing header gets 401 with gRPC status 16", () => {
    const host = new TestHost("properties").properties(routeAuth("authorization")).start();
    const stream = host.http();
    expect(stream.requestHeaders(get("/two").add("cookie", "value"), true)).toBe(Action.StopAllIterationAndWatermark);
    expect(stream.localResponse.status).toBe(401);
    expect(stream.localResponse.body).toBe("");
    expect(stream.localResponse.grpcStatus).toBe(16);
    expect(stream.upstream.reached).toBe(false);
  });

  it("leakCheck: 200 simple requests leave no context and no memory growth past a page", () => {
    const host = new TestHost("properties").start();
    expect(host.leakCheck(200, get("/three"))).toBeLessThanOrEqual(65536);
    expect(host.logs.contains("202 finished", "info")).toBe(true);
  });

  it("the call trace shows each callback and hostcall of a stream", () => {
    const host = new TestHost("properties").trace().start();
    expect(host.traceLines().length).toBeGreaterThan(0);
    host.clearTrace();
    expect(host.traceLines().length).toBe(0);
    const stream = host.http();
    stream.requestHeaders(get("/three"), true);
    const lines = host.traceLines();
    expect(lines[0]).toBe("[host->vm] proxy_on_context_create(2, 1)");
    expect(lines[1]).toBe("[host<-vm] proxy_on_context_create return: void");
    expect(lines[2]).toBe("[host->vm] proxy_on_request_headers(2, 3, 1)");
    expect(lines[lines.length - 1]).toBe("[host<-vm] proxy_on_request_headers return: 0");
  });
});

describe("dispatch_call_on_tick: a second plugin on the same VM", () => {
  it("both plugins tick and count on their own root contexts", () => {
    const host = new TestHost("dispatch_call_on_tick").pluginName("first").cluster("web_service").strict().start();
    expect(host.rootContextId).toBe(1);
    const second = host.addPlugin("second");
    expect(second.rootContextId).toBe(2);
    host.advanceTime(100);
    const pending = host.pendingHttpCallouts();
    expect(pending.length).toBe(2);
    pending[0].respond(200);
    pending[1].respond(200);
    expect(host.logs.contains("called 1 for contextID=1", "info")).toBe(true);
    expect(host.logs.contains("called 1 for contextID=2", "info")).toBe(true);
    expect(second.shutdown()).toBe(true);
    host.logs.clear();
    host.advanceTime(100);
    expect(host.pendingHttpCallouts().length).toBe(1);
    host.pendingHttpCallouts()[0].respond(200);
    expect(host.logs.messages("info")[0]).toBe("called 2 for contextID=1");
  });
});
