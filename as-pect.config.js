// The as-pect configuration of the SDK's own specs (assembly/__tests__/*.spec.ts). Each spec
// module is itself the filter under test: the project's host (src/host, the one the test kit and
// the dev proxy use) loads it, links its `proxy_*` imports and calls its exports, so the specs
// drive the SDK through real callbacks and real hostcalls (see assembly/__tests__/spec-filter.ts).
// `npm test` runs it from the repository root:
//   node scripts/test.mjs --only=aspect --no-build
//
// Inside this repository the helper is TypeScript source, so tsx's loader is registered to import it.
import { register } from "tsx/esm/api";

register();
const { withProxyWasmHost } = await import("./src/testing/aspect/index.ts");

export default withProxyWasmHost({ specModuleIsFilter: true, entries: ["assembly/__tests__/**/*.spec.ts"] });
