/**
 * Compiles WebAssembly text to a binary with the `wabt` npm package, for tests that need
 * hand-written modules. The wabt instance is created once and reused.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

interface WabtModule {
  toBinary(options: { log?: boolean; write_debug_names?: boolean }): { buffer: Uint8Array };
  destroy(): void;
}

interface Wabt {
  parseWat(filename: string, text: string, features?: Record<string, boolean>): WabtModule;
}

const require = createRequire(import.meta.url);
const loadWabt = require("wabt") as () => Promise<Wabt>;

let wabt: Wabt | undefined;

/** Loads wabt; call once (e.g. in `before`) before using {@link watToWasm}. */
export async function initWat(): Promise<void> {
  wabt ??= await loadWabt();
}

/**
 * The binary for `text`. Requires {@link initWat} to have completed. The `name` section is
 * written (function names for backtraces) when `debugNames` is true.
 *
 * @throws Error with wabt's message when the text does not parse.
 */
export function watToWasm(text: string, options: { debugNames?: boolean } = {}): Uint8Array {
  if (!wabt) throw new Error("watToWasm: call `await initWat()` first");
  const module = wabt.parseWat("inline.wat", text, { multi_value: true, bulk_memory: true });
  try {
    return new Uint8Array(module.toBinary({ write_debug_names: options.debugNames ?? false }).buffer);
  } finally {
    module.destroy();
  }
}

const FIXTURES = new URL("../fixtures/wat/", import.meta.url);

/** Text of `tests/fixtures/wat/<name>.wat`. */
export function readWatFixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`${name}.wat`, FIXTURES)), "utf8");
}

/** Binary of `tests/fixtures/wat/<name>.wat`. Requires {@link initWat}. */
export function wasmFixture(name: string, options: { debugNames?: boolean } = {}): Uint8Array {
  return watToWasm(readWatFixture(name), options);
}
