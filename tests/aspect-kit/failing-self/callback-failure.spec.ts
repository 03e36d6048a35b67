// Deliberately failing: run only by aspect-kit.test.ts (through failing-self/as-pect.config.js).
import { requestHeaders } from "../../../assembly/index";
import { Headers } from "../../../assembly/testing";
import { aRequest, duringRequestHeaders } from "../../../assembly/__tests__/spec-filter";

export * from "../../../assembly/exports";

describe("failures inside callbacks", () => {
  it("a passing test runs its callback", () => {
    duringRequestHeaders(Headers.of([[":path", "/x"]]), () => {
      expect(requestHeaders.get(":path")).toBe("/x");
    });
  });

  it("a wrong expectation inside a callback fails the test with the host's report", () => {
    duringRequestHeaders(Headers.of([[":path", "/x"]]), () => {
      expect(requestHeaders.get(":path")).toBe("/y");
    });
  });

  it("the module's VM stays failed for the tests after it", () => {
    duringRequestHeaders(aRequest(), () => {});
  });
});
