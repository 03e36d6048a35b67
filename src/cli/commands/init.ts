import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { parseFlags } from "../parse-flags";
import { UsageError, type CliIo } from "../cli-io";
import { styleFor } from "../terminal-style";
import { sdkRoot, sdkVersion } from "../sdk-paths";
import { checkSdkSource, fileDependency, runningFromClone } from "../sdk-source";
import { projectFiles, type FilterKind } from "../templates/project-files";

export const INIT_USAGE = `Usage: proxy-wasm-as init [dir] [options]

Creates a filter project: package.json, asconfig.json extending the SDK's, assembly/index.ts with
a working filter, an as-pect spec, a Node test using the test kit, and a README.

Options:
  dir                  where to create it (default: the current folder; must be empty)
  --kind <http|tcp>    HTTP filter (default) or network (TCP) filter
  --name <name>        package and module name (default: the folder's name)
  --sdk <dir|file.tgz> depend on this copy of proxy-wasm-as (a clone, or a tarball made by
                       \`npm pack\` in one) through a file: dependency instead of the registry
  -h, --help           this help
`;

/**
 * `init`: 0 after writing the project (files listed on stdout), 1 when the folder is not empty
 * (nothing written), 2 on a usage error (bad kind or name).
 */
export async function initCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags({
    args,
    allowPositionals: true,
    options: {
      kind: { type: "string", default: "http" },
      name: { type: "string" },
      sdk: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.stdout.write(INIT_USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`init takes one folder, got ${positionals.length}`);
  const kind = values.kind;
  if (kind !== "http" && kind !== "tcp") throw new UsageError(`--kind must be http or tcp, got "${kind}"`);
  const dir = resolve(io.cwd, positionals[0] ?? ".");
  const name = values.name ?? basename(dir);
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) {
    throw new UsageError(`"${name}" is not a usable package name (lower-case letters, digits, ".", "_", "-"); pass --name`);
  }
  const style = styleFor(io.stderr, io.env);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    io.stderr.write(`${style.fail("error:")} ${dir} is not empty; init only writes into an empty or new folder\n`);
    return 1;
  }
  let sdkDependency = `^${await sdkVersion()}`;
  let sdkKind: "folder" | "tarball" | "registry" = "registry";
  if (values.sdk !== undefined) {
    const source = resolve(io.cwd, values.sdk);
    try {
      sdkKind = checkSdkSource(source).kind;
    } catch (error) {
      io.stderr.write(`${style.fail("error:")} ${(error as Error).message}\n`);
      return 1;
    }
    sdkDependency = fileDependency(dir, source);
  }

  const files = projectFiles({ name, kind: kind as FilterKind, sdkDependency });
  for (const [path, content] of Object.entries(files)) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  const shown = relative(io.cwd, dir) || ".";
  io.stdout.write(`created ${kind.toUpperCase()} filter project ${name} in ${shown}:\n`);
  for (const path of Object.keys(files).sort()) io.stdout.write(`  ${path}\n`);
  io.stdout.write(`\nnext:\n${shown === "." ? "" : `  cd ${shown}\n`}  npm install\n  npm test\n${kind === "http" ? "  npm start\n" : ""}`);
  if (sdkKind === "registry") {
    // npm answers E404 for a version the registry does not have (a clone's, before it is published).
    const clone = runningFromClone(sdkRoot());
    io.stdout.write(
      `\nIf \`npm install\` fails with E404, proxy-wasm-as ${sdkDependency} is not on the npm registry yet.\n` +
        "Depend on a clone instead (run `npm ci` in it first) or on a .tgz made by `npm pack` in one:\n" +
        `  npm install --save-dev ${clone ?? "<clone folder or .tgz>"}\n` +
        `or create the project with \`proxy-wasm-as init --sdk ${clone ?? "<clone folder or .tgz>"}\`.\n`,
    );
  } else {
    io.stdout.write(`\nproxy-wasm-as comes from ${sdkDependency}${sdkKind === "folder" ? " (npm links the folder: run `npm ci` in it first)" : ""}.\n`);
  }
  return 0;
}
