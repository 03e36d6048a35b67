// Builds tests/fixtures/source-map-filter (release and debug) once per test file, into a folder
// of its own under the fixture's build/ (so test files running at once do not share outputs, and
// the sources sit above the map as in a project), with the CLI's own build, so the modules and
// their maps are what a filter author's `proxy-wasm-as build` writes.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildFilter } from "../../../src/cli/commands/build";
import { captureIo } from "../../cli/cli-test-io";

export const FIXTURE_DIR = fileURLToPath(new URL("../../fixtures/source-map-filter/", import.meta.url));

export interface FixtureBuild {
  readonly dir: string;
  readonly release: string;
  readonly debug: string;
  dispose(): void;
}

/** Release and debug builds of the fixture; throws with the compiler's output when one fails. */
export async function buildFixture(): Promise<FixtureBuild> {
  mkdirSync(join(FIXTURE_DIR, "build"), { recursive: true });
  const dir = mkdtempSync(join(FIXTURE_DIR, "build", "test-"));
  const release = join(dir, "failing.wasm");
  const debug = join(dir, "failing.debug.wasm");
  for (const [out, isDebug] of [[release, false], [debug, true]] as const) {
    const cli = captureIo(FIXTURE_DIR);
    const built = await buildFilter(cli.io, { entry: "assembly/index.ts", config: "asconfig.json", debug: isDebug, out });
    if (built === null) throw new Error(`fixture build failed:\n${cli.out.stdout}${cli.out.stderr}`);
  }
  return { dir, release, debug, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
