// vitest for the runner-compatibility suite only: `proxy-wasm-as/testing` resolves to the
// TypeScript sources through the package's `proxy-wasm-as-source` export condition.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const conditions = ["proxy-wasm-as-source", "node", "import", "default"];

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ["*.vitest.ts"],
    environment: "node",
    watch: false,
  },
});
