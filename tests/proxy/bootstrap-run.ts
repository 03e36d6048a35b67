import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../../src/cli/commands/run";
import { main } from "../../src/cli/main";
import { captureIo } from "../cli/cli-test-io";

/** The repository root: bootstraps name example modules relative to it, as Envoy resolves them against its cwd. */
export const REPO_ROOT = new URL("../..", import.meta.url).pathname;

/** A `run -c <bootstrap>` in this process, up and serving. */
export interface BootstrapRun {
  url: string;
  adminUrl: string | null;
  /** Every HTTP listener's URL, in bootstrap order (the first is `url`). */
  httpUrls: string[];
  /** The TCP listeners' ports, in bootstrap order. */
  tcpPorts: number[];
  /** The TCP listeners by name, in bootstrap order. */
  tcpListeners: Array<{ name: string; port: number }>;
  /** What `run` printed to stdout so far (the listening lines). */
  stdout(): string;
  /** What `run` printed to stderr so far (warnings, filter logs). */
  stderr(): string;
  /** Stops the proxy; resolves to `run`'s exit code. */
  stop(): Promise<number>;
}

/**
 * Runs `proxy-wasm-as run -c <path>` (then `extraArgs`) in this process with `cwd` as working
 * directory (relative module paths in the bootstrap resolve against it, as Envoy's do against its
 * cwd), and resolves once it serves.
 *
 * @throws Error "run -c exited with <code>:" and `run`'s stderr on the next lines when it exits
 *   before it is ready (a refused config).
 */
export async function runBootstrapFile(path: string, extraArgs: string[] = [], cwd = REPO_ROOT): Promise<BootstrapRun> {
  const { io, out, stop, ready, info } = captureIo(cwd);
  const exit = main(["run", "-c", path, ...extraArgs], io);
  const first = await Promise.race([ready.then(() => "ready" as const), exit]);
  if (first !== "ready") throw new Error(`run -c exited with ${first}:\n${out.stderr}`);
  const tcpListeners = (info().tcpListeners as Array<{ name: string; port: number }>).map(({ name, port }) => ({ name, port }));
  return {
    url: info().url as string,
    adminUrl: info().adminUrl as string | null,
    httpUrls: (info().httpListeners as Array<{ url: string }>).map((listener) => listener.url),
    tcpPorts: tcpListeners.map((listener) => listener.port),
    tcpListeners,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    stop: async () => {
      stop();
      return exit;
    },
  };
}

/**
 * Writes `yaml` to a temporary file and runs `proxy-wasm-as run -c <file>` on it with the
 * repository root as working directory, with `extraArgs` after it (see runBootstrapFile). Listener
 * and admin ports should be `port_value: 0`.
 */
export async function runBootstrap(yaml: string, extraArgs: string[] = []): Promise<BootstrapRun> {
  const dir = mkdtempSync(join(tmpdir(), "pwas-bootstrap-"));
  const path = join(dir, "envoy.yaml");
  writeFileSync(path, yaml);
  let run: BootstrapRun;
  try {
    run = await runBootstrapFile(path, extraArgs);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    ...run,
    stop: async () => {
      const code = await run.stop();
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Runs `run -c` on `yaml` expecting a refusal; resolves to its exit code and stderr. */
export async function refusedBootstrap(yaml: string, extraArgs: string[] = []): Promise<{ code: number; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), "pwas-bootstrap-"));
  const path = join(dir, "envoy.yaml");
  writeFileSync(path, yaml);
  const { io, out, stop, ready } = captureIo(REPO_ROOT);
  const exit = runCommand(["-c", path, ...extraArgs], io);
  const first = await Promise.race([ready.then(() => "ready" as const), exit]);
  if (first === "ready") {
    stop();
    await exit;
  }
  rmSync(dir, { recursive: true, force: true });
  if (first === "ready") throw new Error(`run accepted the config: ${out.stderr}`);
  return { code: first, stderr: out.stderr };
}
