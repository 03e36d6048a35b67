// Bundles the Node side (host, test kit, CLI) into dist/ for the published package. Development and
// the tests run the TypeScript sources directly through tsx; `npm run build:lib` produces dist/.
import typescript from "@rollup/plugin-typescript";
import { dts } from "rollup-plugin-dts";
import { builtinModules } from "node:module";
import { existsSync } from "node:fs";

const external = [/^node:/, ...builtinModules, "yaml", "assemblyscript", /^assemblyscript\//, "wabt"];
const entries = { index: "src/index.ts", testing: "src/testing/index.ts", "testing-aspect": "src/testing/aspect/index.ts", cli: "src/cli/main.ts" };
const present = Object.fromEntries(Object.entries(entries).filter(([, file]) => existsSync(file)));

export default [
  {
    input: present,
    output: { dir: "dist", format: "es", entryFileNames: "[name].mjs", chunkFileNames: "chunks/[name]-[hash].mjs", sourcemap: true },
    external,
    plugins: [typescript({ tsconfig: "./tsconfig.json", noEmit: false, declaration: false, outDir: "dist", rootDir: "src" })],
  },
  ...Object.entries(present)
    .filter(([name]) => name !== "cli")
    .map(([name, input]) => ({ input, output: { file: `dist/${name}.d.ts`, format: "es" }, external, plugins: [dts()] })),
];
