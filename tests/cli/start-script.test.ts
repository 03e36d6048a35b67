import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { http1Request } from "../proxy/proxy-test-helpers";

const repo = resolve(import.meta.dirname, "../..");

/** Holds a loopback port, as another process would. */
async function holdPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  return { server, port: (server.address() as { port: number }).port };
}

/**
 * Runs `npm start`'s script with `args`; resolves on exit, or when `until` matches stdout (then
 * the script is stopped with SIGINT once `whileUp` is done). Bounded by `timeoutMs`.
 */
function start(args: string[], options: { until?: RegExp; whileUp?: (stdout: string) => Promise<void>; timeoutMs: number }) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(repo, "scripts/start.mjs"), ...args], { cwd: repo, env: { ...process.env, NODE_OPTIONS: "", FORCE_COLOR: "0" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let up = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`start did not finish within ${options.timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk;
      if (!up && options.until?.test(stdout)) {
        up = true;
        options.whileUp!(stdout).then(
          () => child.kill("SIGINT"),
          (error: unknown) => {
            child.kill("SIGKILL");
            reject(error);
          },
        );
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

describe("npm start (scripts/start.mjs)", () => {
  it("names a taken listener port before building anything, and exits 1", async () => {
    const held = await holdPort();
    try {
      const result = await start(["--listen", `127.0.0.1:${held.port}`, "--admin", "127.0.0.1:0"], { timeoutMs: 60_000 });
      assert.equal(result.code, 1);
      assert.equal(
        result.stderr,
        `error: the listener port 127.0.0.1:${held.port} is in use by another process; pass --listen <host:port> for another one (e.g. npm start -- --listen 127.0.0.1:10001)\n`,
      );
      assert.equal(result.stdout, "");
    } finally {
      held.server.close();
    }
  });

  it("names a taken admin port as the admin port", async () => {
    const held = await holdPort();
    try {
      const result = await start(["--listen", "127.0.0.1:0", `--admin=127.0.0.1:${held.port}`], { timeoutMs: 60_000 });
      assert.equal(result.code, 1);
      assert.equal(
        result.stderr,
        `error: the admin port 127.0.0.1:${held.port} is in use by another process; pass --admin <host:port> for another one, or --admin off (e.g. npm start -- --admin 127.0.0.1:9902)\n`,
      );
    } finally {
      held.server.close();
    }
  });

  it("serves add_header on free ports, building it only when its stamp is not current", async () => {
    let served = "";
    const result = await start(["--listen", "127.0.0.1:0", "--admin", "off", "--log-level", "warning"], {
      until: /dev proxy listening on (http:\/\/127\.0\.0\.1:\d+)/,
      whileUp: async (stdout) => {
        const url = /dev proxy listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1];
        const response = await http1Request(`${url}/`);
        served = `${response.status} ${response.headers["x-wasm-filter"]}`;
      },
      timeoutMs: 120_000,
    });
    assert.equal(served, "200 add_header");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^✓ build\/add_header\.wasm {2}\d+ bytes/);
    assert.match(result.stderr, /^ {2}(building add_header \(release\)|add_header \(release\) is up to date)/);
  });
});
