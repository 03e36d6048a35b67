/**
 * Compiles the hand-written WAT fixtures of tests/fixtures/wat-core with wabt (names kept, so
 * backtraces can be asserted).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const wabt: any = await require("wabt")();

export function compileWat(source: string, name = "fixture.wat"): Uint8Array {
  const module = wabt.parseWat(name, source, { bulk_memory: true });
  try {
    return new Uint8Array(module.toBinary({ write_debug_names: true }).buffer);
  } finally {
    module.destroy();
  }
}

export function fixture(name: string): Uint8Array {
  const path = new URL(`../../fixtures/wat-core/${name}`, import.meta.url);
  return compileWat(readFileSync(path, "utf8"), name);
}
