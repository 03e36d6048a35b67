import { pathToFileURL } from "node:url";
import { buildCommand, BUILD_USAGE } from "./commands/build";
import { deployCommand, DEPLOY_USAGE } from "./commands/deploy";
import { initCommand, INIT_USAGE } from "./commands/init";
import { packageCommand, PACKAGE_USAGE } from "./commands/package";
import { pushCommand, PUSH_USAGE } from "./commands/push";
import { runCommand, RUN_USAGE } from "./commands/run";
import { testCommand, TEST_USAGE } from "./commands/test";
import { processIo, UsageError, type CliIo } from "./cli-io";
import { closest } from "./parse-flags";
import { styleFor } from "./terminal-style";
import { sdkVersion } from "./sdk-paths";

export const MAIN_USAGE = `Usage: proxy-wasm-as <command> [options]   (alias: pwas)

Commands:
  init [dir]   create a filter project (--kind http|tcp)
  build        compile the filter and check it loads in Envoy
  test         run the project's tests (as-pect specs and Node tests)
  run          start the dev proxy with the filter in front of an upstream
  package      build the compat OCI image of a .wasm (layout dir or tar)
  push         push the image to a registry and print its oci://…@sha256: URL
  deploy       print the Envoy / Istio / Envoy Gateway config that deploys it

Run \`proxy-wasm-as <command> --help\` for a command's options.
`;

type Command = (args: string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, { run: Command; usage: string }> = {
  init: { run: initCommand, usage: INIT_USAGE },
  build: { run: buildCommand, usage: BUILD_USAGE },
  test: { run: testCommand, usage: TEST_USAGE },
  run: { run: runCommand, usage: RUN_USAGE },
  package: { run: packageCommand, usage: PACKAGE_USAGE },
  push: { run: pushCommand, usage: PUSH_USAGE },
  deploy: { run: deployCommand, usage: DEPLOY_USAGE },
};

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code: 0 success,
 * 1 the command failed (it printed why), 2 a usage error (message and usage on stderr).
 */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.stdout.write(MAIN_USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    io.stdout.write(`${await sdkVersion()}\n`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  const style = styleFor(io.stderr, io.env);
  if (command === undefined) {
    const suggestion = closest(name, Object.keys(COMMANDS));
    io.stderr.write(`${style.fail("error:")} unknown command "${name}"${suggestion === undefined ? "" : `. Did you mean "${suggestion}"?`}\n\n${MAIN_USAGE}`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      io.stderr.write(`${style.fail("error:")} ${(error as Error).message}\n\n${command.usage}`);
      return 2;
    }
    throw error;
  }
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS");
}

// Run when executed directly (bin script or `node --import tsx src/cli/main.ts`), not when imported.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
