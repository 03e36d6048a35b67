// Only run by aspect-kit.test.ts: a spec module that is its own filter (as the SDK's specs are)
// and fails inside a callback, proving the failure reaches as-pect with the host's report.
import { register } from "tsx/esm/api";

register();
const { withProxyWasmHost } = await import("../../../src/testing/aspect/index.ts");

export default withProxyWasmHost({ specModuleIsFilter: true, entries: ["tests/aspect-kit/failing-self/*.spec.ts"], include: [] });
