// Deliberately wrong: proves a failed expectation is reported as a failure (run only by
// runners.test.ts with vitest.failing.config.ts).
import { expect, test } from "vitest";
import { createTestHost } from "proxy-wasm-as/testing";

const WASM = new URL("../../../../examples/add_header/build/add_header.wasm", import.meta.url);

test("add_header under vitest: a wrong expectation fails", () => {
  const host = createTestHost({ wasm: WASM });
  const result = host.flow({ request: { headers: [[":method", "GET"], [":path", "/"], [":authority", "a"]] } });
  expect(result.downstream.header("hello")).toBe("mars!");
});
