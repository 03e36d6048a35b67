import { existsSync, readFileSync, statSync } from "node:fs";
import { relative, sep } from "node:path";
import { gunzipSync } from "node:zlib";
import { readTar } from "../oci/tar";

/** The package name a `--sdk` source must hold. */
const SDK_PACKAGE = "proxy-wasm-as";

/**
 * Checks that `source` is a proxy-wasm-as package that npm can install from a `file:` spec: a
 * folder with its package.json (a clone), or a gzipped tarball from `npm pack` (package/package.json
 * inside). Returns the package's version.
 *
 * @throws Error saying what `source` is instead.
 */
export function checkSdkSource(source: string): { kind: "folder" | "tarball"; version: string } {
  if (!existsSync(source)) throw new Error(`--sdk: ${source} does not exist (give a clone of proxy-wasm-as or a .tgz made by \`npm pack\` in one)`);
  if (statSync(source).isDirectory()) {
    const manifest = `${source}${sep}package.json`;
    if (!existsSync(manifest)) throw new Error(`--sdk: ${source} has no package.json; it is not a clone of proxy-wasm-as`);
    return { kind: "folder", version: packageVersion(readFileSync(manifest, "utf8"), manifest) };
  }
  let entries;
  try {
    entries = readTar(gunzipSync(readFileSync(source)));
  } catch {
    throw new Error(`--sdk: ${source} is neither a folder nor a gzipped tarball (.tgz from \`npm pack\`)`);
  }
  const manifest = entries.find((entry) => entry.name === "package/package.json");
  if (manifest?.data === undefined) throw new Error(`--sdk: ${source} has no package/package.json; it is not a tarball made by \`npm pack\``);
  return { kind: "tarball", version: packageVersion(Buffer.from(manifest.data).toString("utf8"), `${source}:package/package.json`) };
}

/**
 * The `file:` dependency spec for `source` as seen from the project folder: relative, so the two
 * can move together, with forward slashes as npm writes them on every platform.
 */
export function fileDependency(projectDir: string, source: string): string {
  const path = relative(projectDir, source).split(sep).join("/");
  return `file:${path === "" ? "." : path}`;
}

function packageVersion(text: string, where: string): string {
  let parsed: { name?: unknown; version?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new Error(`--sdk: ${where} is not valid JSON`);
  }
  if (parsed.name !== SDK_PACKAGE) throw new Error(`--sdk: ${where} is the package "${String(parsed.name)}", not ${SDK_PACKAGE}`);
  return typeof parsed.version === "string" ? parsed.version : "0.0.0";
}

/**
 * The SDK folder when this CLI runs from a clone rather than from an installed package (one under
 * node_modules), else null: a clone's version may not be on the registry.
 */
export function runningFromClone(root: string): string | null {
  return root.split(sep).includes("node_modules") ? null : root;
}
