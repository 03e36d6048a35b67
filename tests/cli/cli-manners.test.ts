import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { main } from "../../src/cli/main";
import { closest, editDistance } from "../../src/cli/parse-flags";
import { colourEnabled } from "../../src/cli/terminal-style";
import { buildCompatImage } from "../../src/oci";
import { startFakeRegistry } from "../oci/fake-registry";
import { TINY_FILTER } from "../oci/fixture-wasm";
import { HELLO_FILTER } from "../proxy/wat-filters";
import { captureIo } from "./cli-test-io";

const dir = mkdtempSync(join(tmpdir(), "pwas-manners-"));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "tiny.wasm"), TINY_FILTER);
writeFileSync(join(dir, "hello.wasm"), HELLO_FILTER);

async function holdPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  return { server, port: (server.address() as { port: number }).port };
}

describe("unknown options and commands", () => {
  it("an unknown option names the nearest known one and exits 2 with the usage", async () => {
    const cli = captureIo(dir);
    assert.equal(await main(["build", "--wach"], cli.io), 2);
    assert.match(cli.out.stderr, /^error: unknown option '--wach'\. Did you mean '--watch'\?\n\nUsage: proxy-wasm-as build/);
    const run = captureIo(dir);
    assert.equal(await main(["run", "--lisen", "127.0.0.1:0"], run.io), 2);
    assert.equal(run.out.stderr.split("\n")[0], "error: unknown option '--lisen'. Did you mean '--listen'?");
    const push = captureIo(dir);
    assert.equal(await main(["push", "--insecur", "a.wasm", "r/x:1"], push.io), 2);
    assert.equal(push.out.stderr.split("\n")[0], "error: unknown option '--insecur'. Did you mean '--insecure'?");
  });

  it("suggests nothing when no option is close, and handles short options", async () => {
    const cli = captureIo(dir);
    assert.equal(await main(["deploy", "--frobnicate"], cli.io), 2);
    assert.equal(cli.out.stderr.split("\n")[0], "error: unknown option '--frobnicate'.");
    const short = captureIo(dir);
    assert.equal(await main(["build", "-x"], short.io), 2);
    assert.equal(short.out.stderr.split("\n")[0], "error: unknown option '-x'. Did you mean '-o'?");
  });

  it("an unknown command names the nearest command", async () => {
    const cli = captureIo(dir);
    assert.equal(await main(["biuld"], cli.io), 2);
    assert.match(cli.out.stderr, /^error: unknown command "biuld"\. Did you mean "build"\?\n\nUsage: proxy-wasm-as <command>/);
    const far = captureIo(dir);
    assert.equal(await main(["toString"], far.io), 2);
    assert.match(far.out.stderr, /^error: unknown command "toString"\n/);
  });

  it("edit distance counts a swap of neighbours as one edit; closest stays within a third of the length", () => {
    assert.equal(editDistance("build", "biuld"), 1);
    assert.equal(editDistance("--watch", "--wach"), 1);
    assert.equal(editDistance("", "abc"), 3);
    assert.equal(editDistance("kitten", "sitting"), 3);
    assert.equal(closest("pakage", ["package", "push"]), "package");
    assert.equal(closest("xyz", ["init", "run"]), undefined);
  });
});

describe("colour", () => {
  it("only on a terminal, unless FORCE_COLOR or NO_COLOR say otherwise", () => {
    assert.equal(colourEnabled({ isTTY: true }, {}), true);
    assert.equal(colourEnabled({}, {}), false);
    assert.equal(colourEnabled({ isTTY: true }, { NO_COLOR: "1" }), false);
    assert.equal(colourEnabled({ isTTY: true }, { NO_COLOR: "" }), true);
    assert.equal(colourEnabled({}, { FORCE_COLOR: "1" }), true);
    assert.equal(colourEnabled({}, { FORCE_COLOR: "" }), true);
    assert.equal(colourEnabled({ isTTY: true }, { FORCE_COLOR: "0" }), false);
    assert.equal(colourEnabled({ isTTY: true }, { FORCE_COLOR: "false" }), false);
    assert.equal(colourEnabled({}, { FORCE_COLOR: "1", NO_COLOR: "1" }), true);
  });

  it("colours error lines on a terminal and leaves them plain elsewhere", async () => {
    const tty = captureIo(dir);
    (tty.io.stderr as { isTTY?: boolean }).isTTY = true;
    assert.equal(await main(["frobnicate"], tty.io), 2);
    assert.ok(tty.out.stderr.startsWith('\x1b[31merror:\x1b[0m unknown command "frobnicate"'), JSON.stringify(tty.out.stderr.slice(0, 40)));
    const noColour = captureIo(dir);
    (noColour.io.stderr as { isTTY?: boolean }).isTTY = true;
    noColour.io.env = { NO_COLOR: "1" };
    assert.equal(await main(["frobnicate"], noColour.io), 2);
    assert.ok(noColour.out.stderr.startsWith('error: unknown command "frobnicate"'));
    const forced = captureIo(dir);
    forced.io.env = { FORCE_COLOR: "1" };
    assert.equal(await main(["package", "tiny.wasm", "-o", "colour-layout"], forced.io), 0, forced.out.stderr);
    assert.ok(forced.out.stdout.startsWith("\x1b[32m✓\x1b[0m tiny.wasm → colour-layout"), JSON.stringify(forced.out.stdout.slice(0, 40)));
  });
});

describe("hints for common mistakes", () => {
  it("run names a taken admin port as the admin port", async () => {
    const held = await holdPort();
    try {
      const cli = captureIo(dir);
      const code = await main(["run", "--wasm", "hello.wasm", "--listen", "127.0.0.1:0", "--admin", `127.0.0.1:${held.port}`, "--log-level", "off"], cli.io);
      assert.equal(code, 1);
      assert.equal(cli.out.stderr, `error: the admin port 127.0.0.1:${held.port} is in use by another process; pass --admin <host:port> for another one, or --admin off\n`);
      assert.equal(cli.out.stdout, "");
    } finally {
      held.server.close();
    }
  });

  it("run names a taken listener port as the listener port", async () => {
    const held = await holdPort();
    try {
      const cli = captureIo(dir);
      const code = await main(["run", "--wasm", "hello.wasm", "--listen", `127.0.0.1:${held.port}`, "--admin", "off", "--log-level", "off"], cli.io);
      assert.equal(code, 1);
      assert.equal(cli.out.stderr, `error: the listener port 127.0.0.1:${held.port} is in use by another process; pass --listen <host:port> for another one\n`);
    } finally {
      held.server.close();
    }
  });

  it("push to a plain-HTTP registry without --insecure suggests --insecure instead of OpenSSL's text", async () => {
    const registry = await startFakeRegistry();
    try {
      const cli = captureIo(dir);
      assert.equal(await main(["push", "tiny.wasm", `${registry.host}/acme/filter:1.0`], cli.io), 1);
      assert.equal(
        cli.out.stderr,
        `pushing tiny.wasm to ${registry.host}/acme/filter:1.0\n` +
          `✗ push failed: ${registry.host} answered in plain HTTP, not HTTPS.\n` +
          "  If it is a plain-HTTP registry (a local or lab one), push with --insecure:\n" +
          `    proxy-wasm-as push tiny.wasm ${registry.host}/acme/filter:1.0 --insecure\n`,
      );
      assert.equal(cli.out.stdout, "");
    } finally {
      await registry.close();
    }
  });

  it("push of a tar written by `package -o` pushes that image as it is", async () => {
    const pack = captureIo(dir);
    assert.equal(await main(["package", "tiny.wasm", "--tag", "acme/tiny:1.0", "-o", "out/tiny.tar"], pack.io), 0, pack.out.stderr);
    const packaged = buildCompatImage(TINY_FILTER, { annotations: { "org.opencontainers.image.title": "tiny", "org.opencontainers.image.version": "1.0" } });
    assert.match(pack.out.stdout, new RegExp(`manifest ${packaged.manifestDigest}`));
    const registry = await startFakeRegistry();
    try {
      const cli = captureIo(dir);
      // Another repository and tag than --tag named: the archive's manifest is pushed unchanged, so
      // the pin is the one `package` printed.
      assert.equal(await main(["push", "out/tiny.tar", `${registry.host}/other/name:2.0`, "--insecure"], cli.io), 0, cli.out.stderr);
      assert.equal(cli.out.stdout, `oci://${registry.host}/other/name:2.0@${packaged.manifestDigest}\n`);
    } finally {
      await registry.close();
    }
  });

  it("push of a tar that is not an image layout says what is missing; package of an image tar says what it is", async () => {
    const { writeTar } = await import("../../src/oci");
    writeFileSync(join(dir, "not-layout.tar"), writeTar([{ name: "plugin.wasm", data: TINY_FILTER }]));
    const push = captureIo(dir);
    assert.equal(await main(["push", "not-layout.tar", "127.0.0.1:1/x/y:1", "--insecure"], push.io), 1);
    assert.equal(push.out.stderr, "error: not-layout.tar is not an OCI image layout (no oci-layout file)\n");

    const pack = captureIo(dir);
    assert.equal(await main(["package", "out/tiny.tar"], pack.io), 1);
    assert.equal(
      pack.out.stderr,
      "✗ out/tiny.tar is an OCI image archive (as `package -o x.tar` writes), not a .wasm module.\n" +
        "  Push it as it is: proxy-wasm-as push out/tiny.tar <registry/repo:tag>; package the .wasm itself to build an image.\n",
    );
    assert.ok(readFileSync(join(dir, "out/tiny.tar")).length > 0);
  });
});
