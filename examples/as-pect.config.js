// The as-pect configuration of the examples' specs (examples/<name>/assembly/__tests__/*.spec.ts):
// each spec drives its example's built module (npm run build) through the project's host, by the
// example's name: `new TestHost("add_header")`. `npm test` runs it from the repository root:
//   node scripts/test.mjs --only=aspect --no-build
//
// A filter project imports the helper from the package ("proxy-wasm-as/testing/aspect"); inside
// this repository the helper is TypeScript source, so tsx's loader is registered to import it.
import { existsSync, readdirSync } from "node:fs";
import { register } from "tsx/esm/api";

register();
const { withProxyWasmHost } = await import("../src/testing/aspect/index.ts");

const examples = new URL("./", import.meta.url);
const withSpecs = readdirSync(examples).filter((name) => existsSync(new URL(`${name}/assembly/__tests__`, examples)));

export default withProxyWasmHost({
  filters: Object.fromEntries(withSpecs.map((name) => [name, new URL(`${name}/build/${name}.wasm`, examples)])),
  entries: ["examples/*/assembly/__tests__/*.spec.ts"],
  include: [],
});
