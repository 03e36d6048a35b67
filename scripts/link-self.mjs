// Makes `proxy-wasm-as/assembly` resolve to this repository, so the examples compile against the SDK
// exactly as a user's project does (asc resolves packages through node_modules only).
import { existsSync, lstatSync, mkdirSync, symlinkSync, unlinkSync, readlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export function linkSelf() {
  const link = join(repoRoot, "node_modules", "proxy-wasm-as");
  mkdirSync(dirname(link), { recursive: true });
  if (existsSync(link) || isDanglingLink(link)) {
    const stat = lstatSync(link);
    if (stat.isSymbolicLink() && readlinkSync(link) === "..") return link;
    if (!stat.isSymbolicLink()) return link; // an installed copy: leave it alone
    unlinkSync(link);
  }
  symlinkSync("..", link, "dir");
  return link;
}

function isDanglingLink(path) {
  try { return lstatSync(path).isSymbolicLink(); } catch { return false; }
}

if (import.meta.url === `file://${process.argv[1]}`) linkSelf();
