// A throw-away filter project laid out as a user's: `node_modules/proxy-wasm-as` links to this
// repository, `assembly/` is empty and `asconfig.json` extends the installed SDK's, so a build in
// it goes through the SDK's package exports, asconfig and transforms as a user's build does.
import { after } from "node:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../..", import.meta.url));

/** Creates the project in a new temporary folder (named from `prefix`), removed after the file's tests. */
export function userProject(prefix: string): string {
  const project = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(project, { recursive: true, force: true }));
  mkdirSync(join(project, "node_modules"));
  symlinkSync(repo, join(project, "node_modules", "proxy-wasm-as"), "dir");
  mkdirSync(join(project, "assembly"));
  writeFileSync(join(project, "asconfig.json"), JSON.stringify({ extends: "./node_modules/proxy-wasm-as/asconfig.json" }));
  return project;
}
