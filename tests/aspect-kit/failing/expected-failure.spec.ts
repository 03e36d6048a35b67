// Deliberately failing: run only by aspect-kit.test.ts (through failing/as-pect.config.js), which
// checks that as-pect reports each of these failures with the message shown here.
import { TestHost, Headers } from "proxy-wasm-as/assembly/testing";

describe("failures surface through as-pect", () => {
  it("a wrong header expectation fails", () => {
    const host = new TestHost().start();
    const stream = host.http();
    stream.requestHeaders(Headers.of([[":method", "GET"], [":path", "/"], [":authority", "a"]]), true);
    stream.responseHeaders(Headers.of([[":status", "200"]]), true);
    expect(stream.downstream.header("hello")).toBe("world?");
  });

  it("a host error aborts with the host's message", () => {
    new TestHost("no-such-filter").start();
  });

  it("a plugin that does not start aborts start() with the start error", () => {
    new TestHost().pluginConfig("[1]").start();
  });

  it("a passing test next to them still passes", () => {
    expect(new TestHost().start().logs.count("error")).toBe(0);
  });
});
