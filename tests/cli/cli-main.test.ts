import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";
import { captureIo as captureIoIn } from "./cli-test-io";
import { main } from "../../src/cli/main";
import { http1Request, startUpstream } from "../proxy/proxy-test-helpers";
import { HELLO_FILTER } from "../proxy/wat-filters";

const repo = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "pwas-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const captureIo = () => captureIoIn(dir);

describe("proxy-wasm-as main", () => {
  it("prints usage and exits 2 without a command, 0 for --help", async () => {
    const none = captureIo();
    assert.equal(await main([], none.io), 2);
    assert.match(none.out.stdout, /^Usage: proxy-wasm-as <command>/);
    const help = captureIo();
    assert.equal(await main(["--help"], help.io), 0);
  });

  it("rejects an unknown command with exit code 2", async () => {
    const io = captureIo();
    assert.equal(await main(["frobnicate"], io.io), 2);
    assert.match(io.out.stderr, /^error: unknown command "frobnicate"/);
  });

  it("rejects an unknown option with the command's usage and exit code 2", async () => {
    const io = captureIo();
    assert.equal(await main(["run", "--bogus"], io.io), 2);
    assert.equal(io.out.stderr.split("\n")[0], "error: unknown option '--bogus'.");
    assert.match(io.out.stderr, /Usage: proxy-wasm-as run/);
  });

  it("the bin script runs the CLI from source through tsx", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(repo, "bin/proxy-wasm-as.js"), "--version"]);
    assert.equal(stdout, "0.1.0\n");
  });
});

describe("proxy-wasm-as run", () => {
  it("serves a filter in front of --upstream until stopped, printing the curl line", async () => {
    const upstream = await startUpstream((req, res) => res.end(`upstream saw ${req.url}`));
    const wasm = join(dir, "hello.wasm");
    writeFileSync(wasm, HELLO_FILTER);
    const cli = captureIo();
    const exit = main(
      ["run", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--upstream", upstream.url, "--wasm", "hello.wasm", "--name", "hello", "--log-level", "warning"],
      cli.io,
    );
    try {
      await Promise.race([cli.ready, exit.then((code) => assert.fail(`run exited early with ${code}: ${cli.out.stderr}`))]);
      const url = cli.info().url as string;
      assert.match(cli.out.stdout, new RegExp(`^dev proxy listening on ${url} \\(admin http://127\\.0\\.0\\.1:\\d+\\)\\ntry: curl -i ${url}/\\n$`));
      const response = await http1Request(`${url}/x`);
      assert.equal(response.status, 200);
      assert.equal(response.body, "upstream saw /x");
      assert.equal(response.headers.hello, "world!");
      const ready = await fetch(`${cli.info().adminUrl as string}/ready`);
      assert.equal(await ready.text(), "LIVE\n");
    } finally {
      cli.stop();
      assert.equal(await exit, 0);
      await upstream.close();
    }
  });

  it("exits 1 naming the missing module", async () => {
    const cli = captureIo();
    assert.equal(await main(["run", "--admin", "off", "--wasm", "nope.wasm"], cli.io), 1);
    assert.equal(cli.out.stderr, `error: ${join(dir, "nope.wasm")} not found (build it with \`proxy-wasm-as build\`)\n`);
  });

  it("exits 1 on a bad config file and 2 on a bad flag value", async () => {
    const config = join(dir, "bad.yaml");
    writeFileSync(config, "upstream: ftp://x\n");
    const bad = captureIo();
    assert.equal(await main(["run", "-c", config], bad.io), 1);
    assert.equal(bad.out.stderr, "error: upstream: only http:// upstreams are supported, got ftp://\n");
    const flag = captureIo();
    assert.equal(await main(["run", "--cluster", "noequals"], flag.io), 2);
    assert.match(flag.out.stderr, /^error: --cluster expects name=url, got "noequals"/);
    const order = captureIo();
    assert.equal(await main(["run", "--name", "x"], order.io), 2);
    assert.match(order.out.stderr, /^error: --name must follow the --wasm it configures/);
  });

  it("--concurrency 2 serves through two workers; --concurrency 0 is a usage error", async () => {
    const wasm = join(dir, "hello2.wasm");
    writeFileSync(wasm, HELLO_FILTER);
    const refused = captureIo();
    assert.equal(await main(["run", "--listen", "127.0.0.1:0", "--admin", "off", "--concurrency", "0"], refused.io), 2);
    assert.match(refused.out.stderr, /--concurrency must be at least 1/);
    const cli = captureIo();
    const exit = main(["run", "--listen", "127.0.0.1:0", "--admin", "off", "--wasm", "hello2.wasm", "--concurrency", "2", "--callback-time-limit", "2000"], cli.io);
    try {
      await Promise.race([cli.ready, exit.then((code) => assert.fail(`run exited early with ${code}: ${cli.out.stderr}`))]);
      for (let i = 0; i < 2; i++) assert.equal((await http1Request(`${cli.info().url as string}/`)).headers.hello, "world!");
    } finally {
      cli.stop();
      assert.equal(await exit, 0);
    }
  });
});
