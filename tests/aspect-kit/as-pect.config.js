// The as-pect configuration of the demo: specs in this folder drive the built add_header example
// through the project's host. Run from the repository root:
//   node node_modules/@as-pect/cli/bin/asp.js --config tests/aspect-kit/as-pect.config.js --no-logo
//
// A filter project imports the helper from the package ("proxy-wasm-as/testing/aspect"); inside
// this repository the helper is TypeScript source, so tsx's loader is registered to import it.
import { register } from "tsx/esm/api";

register();
const { withProxyWasmHost } = await import("../../src/testing/aspect/index.ts");

export default withProxyWasmHost({
  filter: new URL("../../examples/add_header/build/add_header.wasm", import.meta.url),
  // Further filters, started with `new TestHost("<name>")`.
  filters: {
    http_auth_random: new URL("../../examples/http_auth_random/build/http_auth_random.wasm", import.meta.url),
    metrics: new URL("../../examples/metrics/build/metrics.wasm", import.meta.url),
  },
  entries: ["tests/aspect-kit/*.spec.ts"],
  include: [],
});
