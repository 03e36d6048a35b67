// Callouts, local replies and metrics from AssemblyScript, with the further filters named in
// as-pect.config.js (`filters`): examples/http_auth_random and examples/metrics.
import { TestHost, Headers, Action, HttpStream, HttpCallout } from "proxy-wasm-as/assembly/testing";

const GRANTED_BODY = '{"uuid": "7b10a67a-1c67-4199-835b-cbefcd4a63d4"}';
const FORBIDDEN_BODY = '{"uuid": "aaaaaaaa-1c67-4199-835b-cbefcd4a63d4"}';

function uuidRequest(): Headers {
  return Headers.of([[":authority", "localhost:18000"], [":path", "/uuid"], [":method", "GET"], ["x-custom", "1"]]);
}

function authHost(): TestHost {
  return new TestHost("http_auth_random").cluster("httpbin").strict().start();
}

let answered: HttpCallout = new HttpCallout(0, 0);

describe("http_auth_random: the request waits for the callout", () => {
  it("dispatches the request headers to httpbin and pauses", () => {
    const host = authHost();
    const stream = host.http();
    expect(stream.requestHeaders(uuidRequest(), true)).toBe(Action.StopAllIterationAndWatermark);
    expect(stream.upstream.reached).toBe(false);
    const callouts = host.pendingHttpCallouts();
    expect(callouts.length).toBe(1);
    expect(callouts[0].cluster).toBe("httpbin");
    expect(callouts[0].headers.toString()).toBe(":authority: localhost:18000\n:path: /uuid\n:method: GET\nx-custom: 1");
    expect(callouts[0].body).toBe("");
    expect(callouts[0].timeoutMs).toBe(50000);
    expect(host.logs.contains("http call dispatched to httpbin", "info")).toBe(true);
  });

  it("an even hash grants access: the request reaches the upstream", () => {
    const host = authHost();
    const stream = host.http();
    stream.requestHeaders(uuidRequest(), true);
    host.logs.clear();
    host.pendingHttpCallouts()[0].respond(200, GRANTED_BODY, Headers.of([["content-type", "application/json"]]));
    const info = host.logs.messages("info");
    expect(info.length).toBe(3);
    expect(info[0]).toBe("response header from httpbin: :status: 200");
    expect(info[1]).toBe("response header from httpbin: content-type: application/json");
    expect(info[2]).toBe("access granted");
    expect(host.pendingHttpCallouts().length).toBe(0);
    expect(stream.localResponse.sent).toBe(false);
    expect(stream.upstream.headers.toString()).toBe(uuidRequest().toString());
    expect(stream.upstream.ended).toBe(true);
  });

  it("an odd hash forbids access with a local 403 and one extra header", () => {
    const host = authHost();
    const stream = host.http();
    stream.requestHeaders(uuidRequest(), true);
    host.pendingHttpCallouts()[0].respond(200, FORBIDDEN_BODY);
    expect(stream.localResponse.status).toBe(403);
    expect(stream.localResponse.body).toBe("access forbidden");
    expect(stream.localResponse.details).toBe("");
    expect(stream.localResponse.headers.toString()).toBe("powered-by: proxy-wasm-as!!");
    expect(stream.localResponse.grpcStatus).toBe(-1);
    expect(stream.upstream.reached).toBe(false);
    expect(stream.downstream.header(":status")).toBe("403");
    expect(stream.downstream.body).toBe("access forbidden");
    expect(host.logs.contains("access forbidden", "info")).toBe(true);
    expect(host.logs.contains("access granted")).toBe(false);
  });

  it("a failed callout is treated as forbidden", () => {
    const host = authHost();
    const stream = host.http();
    stream.requestHeaders(uuidRequest(), true);
    host.pendingHttpCallouts()[0].fail();
    const critical = host.logs.messages("critical");
    expect(critical.length).toBe(1);
    expect(critical[0]).toBe("http call to httpbin failed");
    expect(stream.localResponse.status).toBe(403);
  });

  it("answering a callout twice aborts with the host's message", () => {
    const host = authHost();
    host.http().requestHeaders(uuidRequest(), true);
    answered = host.pendingHttpCallouts()[0];
    answered.respond(200, GRANTED_BODY);
    expect(() => { answered.respond(200, GRANTED_BODY); }).toThrow();
    expect(() => { answered.fail(); }).toThrow();
  });
});

describe("metrics: counters by header value", () => {
  it("counts each my-custom-header value on its own counter", () => {
    const host = new TestHost("metrics").start();
    const names = ["foo", "foo", "bar", "foo"];
    for (let i = 0; i < names.length; i++) {
      const stream: HttpStream = host.http();
      stream.requestHeaders(Headers.of([[":method", "GET"], [":path", "/"], [":authority", "localhost"], ["my-custom-header", names[i]]]), true);
      stream.complete();
    }
    expect(host.metric("custom_header_value_counts_value=foo_reporter=proxywasmas")).toBe(3);
    expect(host.metric("custom_header_value_counts_value=bar_reporter=proxywasmas")).toBe(1);
    expect(host.hasMetric("custom_header_value_counts_value=baz_reporter=proxywasmas")).toBe(false);
  });
});
