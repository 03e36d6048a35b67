/**
 * Whether filters are being debugged: Node's inspector is open in this process (`node --inspect`,
 * `inspector.open()`, `proxy-wasm-as test --inspect` / `run --inspect`, VS Code's auto-attach), or
 * PWAS_INSPECT=1 is set. Then the test kit and the dev proxy load modules with their source map
 * for the debugger and without the callback time limit, so a pause at a breakpoint is not a trap.
 */
import { url as inspectorUrl } from "node:inspector";

/** The environment variable that asks for debugging without an open inspector (e.g. an in-process session). */
export const INSPECT_ENV = "PWAS_INSPECT";

export function inspectorActive(): boolean {
  return inspectorUrl() !== undefined || process.env[INSPECT_ENV] === "1";
}
