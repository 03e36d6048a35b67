// The deliberately failing vitest case, selected only by this config (the same settings, another
// include: mergeConfig would concatenate the include lists).
import { defineConfig } from "vitest/config";
import base from "./vitest.config";

export default defineConfig({ ...base, test: { ...base.test, include: ["failing/*.vitest.ts"] } });
