// jest for the runner-compatibility suite only. Run jest as ESM:
//   node --experimental-vm-modules node_modules/jest/bin/jest.js --config tests/testing/runners/jest.config.mjs
// `proxy-wasm-as/testing` resolves to the TypeScript sources through the package's
// `proxy-wasm-as-source` export condition.
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));

export default {
  rootDir: fileURLToPath(new URL("../../..", import.meta.url)),
  roots: [here],
  testMatch: ["<rootDir>/tests/testing/runners/*.jest.ts"],
  testEnvironment: "node",
  testEnvironmentOptions: { customExportConditions: ["proxy-wasm-as-source", "node", "node-addons"] },
  extensionsToTreatAsEsm: [".ts"],
  moduleFileExtensions: ["ts", "js", "mjs", "cjs", "json"],
  transform: { "\\.ts$": `${here}jest-typescript-transformer.cjs` },
  cache: false,
};
