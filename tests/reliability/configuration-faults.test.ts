// Faults of class "configuration": `proxy-wasm-as run -c <file>` with a file the proxy cannot
// serve. Envoy refuses a bad bootstrap before serving anything and exits non-zero with the reason
// (envoy source/server/server.cc `InstanceImpl::initialize` → source/exe/main_common.cc prints the
// EnvoyException and exits 1). Ours: exit code 1, one `error:` line that names the file, field or
// module.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main";
import { captureIo } from "../cli/cli-test-io";

const dir = mkdtempSync(join(tmpdir(), "pwas-config-faults-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(result: { code: number; lastError: string }): { code: number; lastError: string } {
  return { code: result.code, lastError: result.lastError };
}

/** Runs `run -c <file with text>`; the exit code and the last line written to stderr. */
async function runWithConfig(name: string, text: string): Promise<{ code: number; lastError: string; stderr: string }> {
  const path = join(dir, name);
  writeFileSync(path, text);
  const cli = captureIo(dir);
  const started = cli.ready.then(() => "started" as const);
  const outcome = await Promise.race([main(["run", "-c", path], cli.io), started]);
  if (outcome === "started") {
    cli.stop();
    throw new Error(`the proxy started with ${name}:\n${text}`);
  }
  const lines = cli.out.stderr.split("\n").filter((line) => line !== "");
  return { code: outcome, lastError: lines.at(-1) ?? "", stderr: cli.out.stderr };
}

describe("configuration faults stop `run` before it serves", () => {
  it("a config file that is not valid YAML: exit 1 naming the file, line and column", async () => {
    const { code, stderr } = await runWithConfig("broken.yaml", "listen: [1\n");
    assert.equal(code, 1);
    assert.equal(
      stderr,
      `error: ${join(dir, "broken.yaml")}: not valid YAML or JSON: Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1:\n\nlisten: [1\n\n^\n\n`,
    );
  });

  it("a config file that does not exist: exit 1 naming the path and the system error", async () => {
    const cli = captureIo(dir);
    const path = join(dir, "absent.yaml");
    assert.equal(await main(["run", "-c", path], cli.io), 1);
    assert.equal(cli.out.stderr, `error: cannot read config file ${path}: ENOENT: no such file or directory, open '${path}'\n`);
  });

  it("a field of the wrong type: exit 1 naming the field", async () => {
    assert.deepEqual(errorOf(await runWithConfig("wrong-type.yaml", "listen: { a: 1 }\n")), { code: 1, lastError: "error: listen: expected a string, got a mapping" });
  });

  it("a filter whose .wasm file is missing: exit 1 naming the path", async () => {
    assert.deepEqual(errorOf(await runWithConfig("missing-wasm.yaml", "filters:\n  - wasm: nothere.wasm\n")), {
      code: 1,
      lastError: `error: ${join(dir, "nothere.wasm")} not found (build it with \`proxy-wasm-as build\`)`,
    });
  });

  it("a filter whose file is not Wasm: exit 1 with cpp-host's message", async () => {
    writeFileSync(join(dir, "junk.wasm"), "not wasm at all");
    assert.deepEqual(errorOf(await runWithConfig("junk-wasm.yaml", "admin: 0\nlisten: 0\nfilters:\n  - wasm: junk.wasm\n")), {
      code: 1,
      lastError: "error: the dev proxy did not start: Failed to parse corrupted Wasm module",
    });
  });

  // envoy source/common/network/listen_socket_impl.cc: `cannot bind '<address>': Address already in use`.
  it("a listener port already in use: exit 1 naming it as the listener port, with the flag that moves it", async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", () => resolve()));
    const port = (busy.address() as AddressInfo).port;
    try {
      assert.deepEqual(errorOf(await runWithConfig("busy.yaml", `listen: ${port}\nadmin: 0\n`)), {
        code: 1,
        lastError: `error: the listener port 127.0.0.1:${port} is in use by another process; pass --listen <host:port> for another one`,
      });
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });
});
