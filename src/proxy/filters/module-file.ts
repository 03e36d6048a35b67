import { statSync } from "node:fs";

/** What tells one write of a .wasm from the next (mtime and size); throws if the file is missing. */
export function moduleFileIdentity(path: string): string {
  const stat = statSync(path);
  return `${stat.mtimeMs}:${stat.size}`;
}

/** True when the .wasm at `path` differs from the one whose identity is `loaded` (a missing file is no change). */
export function moduleFileChanged(path: string, loaded: string): boolean {
  try {
    return moduleFileIdentity(path) !== loaded;
  } catch {
    return false;
  }
}
