// Bundles the Node side (host, test kit, CLI and the dev proxy's filter worker) into dist/ for the
// published package. Development and the tests run the TypeScript sources directly through tsx;
// `npm run build:lib` (run by `npm pack`) produces dist/.
import typescript from "@rollup/plugin-typescript";
import { dts } from "rollup-plugin-dts";
import { builtinModules } from "node:module";
import { existsSync, readFileSync } from "node:fs";

const external = [/^node:/, ...builtinModules, "yaml", "ajv", /^ajv\//, "assemblyscript", /^assemblyscript\//, "tsx", /^tsx\//];
const entries = {
  index: "src/index.ts",
  testing: "src/testing/index.ts",
  "testing-aspect": "src/testing/aspect/index.ts",
  // as-pect imports its reporter by path; withProxyWasmHost points it at this sibling bundle.
  "testing-aspect-reporter": "src/testing/aspect/spec-reporter.ts",
  cli: "src/cli/main.ts",
  // The dev proxy starts it in each worker thread; the pool looks for it next to itself.
  "filter-worker": "src/proxy/workers/filter-worker.ts",
};
const present = Object.fromEntries(Object.entries(entries).filter(([, file]) => existsSync(file)));
const WORKER_BOOTSTRAP = "src/proxy/workers/filter-worker-bootstrap.mjs";

/** Copies the worker bootstrap beside the bundles (the pool resolves it from its own URL). */
const workerBootstrap = {
  name: "worker-bootstrap",
  generateBundle() {
    if (existsSync(WORKER_BOOTSTRAP)) {
      this.emitFile({ type: "asset", fileName: "filter-worker-bootstrap.mjs", source: readFileSync(WORKER_BOOTSTRAP, "utf8") });
    }
  },
};

export default [
  {
    input: present,
    // Every file in dist/ itself (no chunk folder), so `new URL("./x", import.meta.url)` finds siblings.
    output: { dir: "dist", format: "es", entryFileNames: "[name].mjs", chunkFileNames: "[name]-[hash].mjs", sourcemap: true },
    external,
    plugins: [typescript({ tsconfig: "./tsconfig.json", noEmit: false, declaration: false, outDir: "dist", rootDir: "src" }), workerBootstrap],
  },
  ...Object.entries(present)
    .filter(([name]) => name !== "cli" && name !== "filter-worker" && name !== "testing-aspect-reporter")
    .map(([name, input]) => ({ input, output: { file: `dist/${name}.d.ts`, format: "es" }, external, plugins: [dts()] })),
];
