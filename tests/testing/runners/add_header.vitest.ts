// The test kit under vitest: the same host API, vitest's `test`/`expect`.
import { expect, test } from "vitest";
import { createTestHost } from "proxy-wasm-as/testing";

const WASM = new URL("../../../examples/add_header/build/add_header.wasm", import.meta.url);

test("add_header under vitest: hello: world! and location: envoy-wasm", () => {
  const host = createTestHost({ wasm: WASM, pluginConfig: { name: "x-wasm", value: "yes" } });
  const result = host.flow({
    request: { headers: [[":method", "GET"], [":path", "/"], [":authority", "example.com"]] },
    response: { headers: [[":status", "302"], ["location", "http://elsewhere/"]] },
  });
  expect(result.downstream.headers).toEqual([[":status", "302"], ["location", "envoy-wasm"], ["x-wasm", "yes"], ["hello", "world!"]]);
  expect(result.downstream.header("hello")).toBe("world!");
  expect(result.downstream.header("location")).toBe("envoy-wasm");
  expect(host.failure).toBeNull();
});
