// Builds one filter source in a user's project layout (tests/helpers/user-project.ts) with the
// CLI's build, as a filter author's `proxy-wasm-as build` does.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildFilter } from "../../src/cli/commands/build";
import { captureIo } from "../cli/cli-test-io";

/** The module, what the build printed, and whether it succeeded (an empty module when not). */
export interface BuiltFilter {
  wasm: Uint8Array;
  stdout: string;
  stderr: string;
  ok: boolean;
}

/** Writes `source` to `assembly/<name>.ts` in `project` and builds it (debug unless told). */
export async function buildFilterSource(project: string, name: string, source: string, options: { debug?: boolean } = {}): Promise<BuiltFilter> {
  writeFileSync(join(project, "assembly", `${name}.ts`), source);
  const cli = captureIo(project);
  const out = join("build", `${name}.wasm`);
  const result = await buildFilter(cli.io, { entry: `assembly/${name}.ts`, debug: options.debug ?? true, out });
  return { wasm: result ? readFileSync(join(project, out)) : new Uint8Array(), stdout: cli.out.stdout, stderr: cli.out.stderr, ok: result !== null };
}
