// Only run by aspect-kit.test.ts: a spec that must be reported as failed, proving a wrong
// expectation and a host-side error both surface through as-pect with their messages.
import { register } from "tsx/esm/api";

register();
const { withProxyWasmHost } = await import("../../../src/testing/aspect/index.ts");

export default withProxyWasmHost({
  filter: new URL("../../../examples/add_header/build/add_header.wasm", import.meta.url),
  entries: ["tests/aspect-kit/failing/*.spec.ts"],
  include: [],
});
