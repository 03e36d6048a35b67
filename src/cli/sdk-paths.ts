import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The root of the installed proxy-wasm-as package (the folder with its package.json), found by
 * walking up from this file, which works both from `src/cli/` (tsx) and from `dist/` (bundle).
 */
export function sdkRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "asconfig.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
    dir = parent;
  }
}

/** The SDK's version from its package.json. */
export async function sdkVersion(): Promise<string> {
  const { readFileSync } = await import("node:fs");
  return (JSON.parse(readFileSync(join(sdkRoot(), "package.json"), "utf8")) as { version: string }).version;
}
