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
    network: new URL("../../examples/network/build/network.wasm", import.meta.url),
    envoy_tcp_routing: new URL("../../examples/envoy_tcp_routing/build/envoy_tcp_routing.wasm", import.meta.url),
    grpc_auth_random: new URL("../../examples/grpc_auth_random/build/grpc_auth_random.wasm", import.meta.url),
    http_body: new URL("../../examples/http_body/build/http_body.wasm", import.meta.url),
    properties: new URL("../../examples/properties/build/properties.wasm", import.meta.url),
    dispatch_call_on_tick: new URL("../../examples/dispatch_call_on_tick/build/dispatch_call_on_tick.wasm", import.meta.url),
  },
  entries: ["tests/aspect-kit/*.spec.ts"],
  include: [],
});
