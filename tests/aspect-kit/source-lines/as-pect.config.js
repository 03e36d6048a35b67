// Only run by tests/host/source-map/aspect-source-lines.test.ts, which builds the source-map
// fixture filter (its map beside it) and names the module in PWAS_SOURCE_LINES_FILTER.
import { register } from "tsx/esm/api";

register();
const { withProxyWasmHost } = await import("../../../src/testing/aspect/index.ts");

export default withProxyWasmHost({
  filter: process.env.PWAS_SOURCE_LINES_FILTER,
  entries: ["tests/aspect-kit/source-lines/*.spec.ts"],
  include: [],
});
