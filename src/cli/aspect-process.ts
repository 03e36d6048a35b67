/**
 * Runs as-pect (the AssemblyScript spec runner) as a child process for `proxy-wasm-as test` and the
 * repository's `npm test`, with output fit for a log file.
 *
 * as-pect's own launcher (`asp`) is not used: it forces `FORCE_COLOR=2` on its child, so colour
 * codes end up in files and CI logs, and its `--no-logo` flag never takes effect (commander names
 * the negated option `logo`, while as-pect reads `noLogo`). This runs as-pect's entry (`lib/test.js`)
 * directly, chooses colour from the terminal, and leaves the logo out.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { sdkRoot } from "./sdk-paths";
import { colourEnabled } from "./terminal-style";

export interface AspectProcessOptions {
  /** Where as-pect runs: its config, spec globs and relative filter paths are taken from here. */
  readonly cwd: string;
  /** The as-pect config, relative to `cwd`. */
  readonly config: string;
  /** Extra as-pect arguments (e.g. `--test <regex>`). */
  readonly args?: readonly string[];
  /** Node's own flags for the as-pect process (e.g. `--inspect-brk=127.0.0.1:9229`). */
  readonly nodeArgs?: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: { write(text: string): unknown; isTTY?: boolean };
  readonly stderr: { write(text: string): unknown };
}

export interface AspectProcessResult {
  /** as-pect's exit code (1 when a spec failed or did not compile; 1 when it could not start). */
  readonly code: number;
  /** Everything written to stdout after the logo, as shown. */
  readonly stdout: string;
}

/** The line as-pect prints right after its logo; nothing else comes before it. */
const BANNER = "⚡AS-pect⚡ Test suite runner";

/** as-pect's entry: the project's own install first, else the one installed with this package. */
export function aspectEntry(cwd: string): string {
  const local = join(cwd, "node_modules", "@as-pect", "cli", "lib", "test.js");
  return existsSync(local) ? local : join(sdkRoot(), "node_modules", "@as-pect", "cli", "lib", "test.js");
}

/**
 * The FORCE_COLOR as-pect's child gets: colour by the CLI's own rule (`colourEnabled`: an explicit
 * FORCE_COLOR wins, NO_COLOR turns it off, otherwise the stream we write to decides), spelled so
 * that as-pect's colour library reads the same answer.
 */
export function aspectColour(env: NodeJS.ProcessEnv, stdout: { isTTY?: boolean }): string {
  if (!colourEnabled(stdout, env)) return "0";
  const force = env.FORCE_COLOR;
  return force === undefined || force === "" || force === "true" ? "2" : force;
}

/** Runs as-pect once; resolves when it exits. Never rejects. */
export function runAspectProcess(options: AspectProcessOptions): Promise<AspectProcessResult> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...options.env, FORCE_COLOR: aspectColour(options.env, options.stdout) };
    // Set when this runs under `node --test`; the child would then report to a parent runner
    // that is not listening instead of printing its results.
    delete env.NODE_TEST_CONTEXT;
    const args = [...(options.nodeArgs ?? []), "--enable-source-maps", aspectEntry(options.cwd), "--config", options.config, ...(options.args ?? [])];
    const child = spawn(process.execPath, args, { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let shown = "";
    let pending = "";
    let pastLogo = false;
    const show = (text: string) => {
      shown += text;
      options.stdout.write(text);
    };
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      if (pastLogo) return show(chunk);
      pending += chunk;
      const at = pending.indexOf(BANNER);
      if (at === -1) return;
      pastLogo = true;
      show(pending.slice(at));
      pending = "";
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => options.stderr.write(chunk));
    child.on("error", (error) => {
      options.stderr.write(`error: could not start as-pect (${process.execPath}): ${error.message}\n`);
      resolve({ code: 1, stdout: shown });
    });
    child.on("close", (code, signal) => {
      // No banner at all: as-pect failed before it (a broken install); show what it printed.
      if (!pastLogo && pending.length > 0) show(pending);
      // as-pect ends its summary with spaces and no newline.
      if (shown.length > 0 && !shown.endsWith("\n")) show("\n");
      resolve({ code: code ?? (signal === null ? 0 : 1), stdout: shown });
    });
  });
}
