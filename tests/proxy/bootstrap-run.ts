import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../../src/cli/commands/run";
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
  /** What `run` printed to stdout so far (the listening lines). */
  stdout(): string;
  /** What `run` printed to stderr so far (warnings, filter logs). */
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Writes `yaml` to a temporary file and runs `proxy-wasm-as run -c <file>` on it with the
 * repository root as working directory, with `extraArgs` after it. Listener and admin ports
 * should be `port_value: 0`.
 *
 * @throws Error with `run`'s stderr when it exits before it is ready (a refused config).
 */
export async function runBootstrap(yaml: string, extraArgs: string[] = []): Promise<BootstrapRun> {
  const dir = mkdtempSync(join(tmpdir(), "pwas-bootstrap-"));
  const path = join(dir, "envoy.yaml");
  writeFileSync(path, yaml);
  const { io, out, stop, ready, info } = captureIo(REPO_ROOT);
  const exit = runCommand(["-c", path, ...extraArgs], io);
  const first = await Promise.race([ready.then(() => "ready" as const), exit]);
  if (first !== "ready") {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`run exited with ${first}: ${out.stderr}`);
  }
  return {
    url: info().url as string,
    adminUrl: info().adminUrl as string | null,
    httpUrls: (info().httpListeners as Array<{ url: string }>).map((listener) => listener.url),
    tcpPorts: (info().tcpListeners as Array<{ port: number }>).map((listener) => listener.port),
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    stop: async () => {
      stop();
      await exit;
      rmSync(dir, { recursive: true, force: true });
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
