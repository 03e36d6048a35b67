// Run only by tests/host/source-map/aspect-source-lines.test.ts: a spec sees the filter's failure
// report with the AssemblyScript line of the fault (tests/fixtures/source-map-filter).
import { TestHost, Headers } from "proxy-wasm-as/assembly/testing";

describe("failure reports in specs", () => {
  it("name the filter's source line", () => {
    const host = new TestHost().start();
    host.http().requestHeaders(Headers.of([["x-fail", "null"]]));
    expect(host.failure.split("\n")[0]).toBe("Function: proxy_on_request_headers failed: Uncaught RuntimeError: memory access out of bounds at assembly/index.ts:23:10");
  });
});
