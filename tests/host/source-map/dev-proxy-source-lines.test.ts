// The dev proxy's failure reports name the AssemblyScript line too (issue #14): `run` finds the
// map beside the module or takes `--source-map`, on the listener's thread and in worker threads.
import assert from "node:assert/strict";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { main } from "../../../src/cli/main";
import { captureIo } from "../../cli/cli-test-io";
import { http1Request, until } from "../../proxy/proxy-test-helpers";
import { buildFixture, type FixtureBuild } from "./fixture-build";

let built: FixtureBuild;
before(async () => {
  built = await buildFixture();
}, { timeout: 240_000 });
after(() => built?.dispose());

const NULL_AT_LINE = "Function: proxy_on_request_headers failed: Uncaught RuntimeError: memory access out of bounds at assembly/index.ts:23:10";

/** Serves the module with `args`, sends one `x-fail: null` request and returns the 503 and the log. */
async function failOnce(args: string[]): Promise<{ status: number; log: string }> {
  const cli = captureIo(built.dir);
  const exit = main(["run", "--listen", "127.0.0.1:0", "--admin", "off", "--log-level", "error", ...args], cli.io);
  try {
    await Promise.race([cli.ready, exit.then((code) => assert.fail(`run exited early with ${code}: ${cli.out.stderr}`))]);
    const response = await http1Request(`${cli.info().url as string}/`, { headers: { "x-fail": "null" } });
    await until(() => cli.out.stderr.includes("Function: proxy_on_request_headers failed"), "the failure report");
    return { status: response.status, log: cli.out.stderr };
  } finally {
    cli.stop();
    assert.equal(await exit, 0);
  }
}

describe("dev proxy: failure reports at their source line", { timeout: 300_000 }, () => {
  it("uses the map beside the module, on the listener's thread", async () => {
    const { status, log } = await failOnce(["--wasm", built.release]);
    assert.equal(status, 503);
    assert.ok(log.includes(NULL_AT_LINE), log);
  });

  it("uses the map beside the module in worker threads", async () => {
    const { status, log } = await failOnce(["--wasm", built.release, "--concurrency", "2"]);
    assert.equal(status, 503);
    assert.ok(log.includes(NULL_AT_LINE), log);
  });

  it("takes --source-map for a module with no map beside it", async () => {
    const alone = join(built.dir, "alone.wasm");
    copyFileSync(built.release, alone);
    const unmapped = await failOnce(["--wasm", alone]);
    assert.ok(unmapped.log.includes("Function: proxy_on_request_headers failed: Uncaught RuntimeError: memory access out of bounds\n"), unmapped.log);
    const mapped = await failOnce(["--wasm", alone, "--source-map", `${built.release}.map`]);
    assert.ok(mapped.log.includes(NULL_AT_LINE), mapped.log);
  });

  it("refuses a --source-map that does not exist", async () => {
    const cli = captureIo(built.dir);
    assert.equal(await main(["run", "--listen", "127.0.0.1:0", "--admin", "off", "--wasm", built.release, "--source-map", "missing.map"], cli.io), 1);
    assert.equal(cli.out.stderr, `error: source map ${join(built.dir, "missing.map")} not found\n`);
  });
});
