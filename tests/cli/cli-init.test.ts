import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { main } from "../../src/cli/main";
import { writeTar } from "../../src/oci";
import { captureIo } from "./cli-test-io";

const repo = resolve(import.meta.dirname, "../..");
const root = mkdtempSync(join(tmpdir(), "pwas-init-"));
after(() => rmSync(root, { recursive: true, force: true }));

/**
 * Stands in for `npm install` (no network here): the generated project's node_modules point at
 * this repository (the SDK) and at the repository's own compiler and test tools.
 */
function linkDependencies(project: string): void {
  const modules = join(project, "node_modules");
  mkdirSync(modules, { recursive: true });
  symlinkSync(repo, join(modules, "proxy-wasm-as"), "dir");
  for (const name of ["assemblyscript", "@as-pect", "tsx"]) symlinkSync(join(repo, "node_modules", name), join(modules, name), "dir");
}

/** The published `proxy-wasm-as/testing` entry needs a build (dist/); the test runs the kit's source instead. */
function useTestKitSource(testFile: string): void {
  const text = readFileSync(testFile, "utf8");
  assert.ok(text.includes('from "proxy-wasm-as/testing"'));
  writeFileSync(testFile, text.replace('"proxy-wasm-as/testing"', JSON.stringify(join(repo, "src/testing/index.ts"))));
}

describe("proxy-wasm-as init", () => {
  it("writes an HTTP filter project whose filter builds, and whose specs and Node test pass", async () => {
    const project = join(root, "greeter");
    const init = captureIo(root);
    assert.equal(await main(["init", "greeter"], init.io), 0, init.out.stderr);
    assert.match(init.out.stdout, /^created HTTP filter project greeter in greeter:\n/);
    const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
    assert.equal(pkg.name, "greeter");
    assert.equal(pkg.type, "module");
    assert.equal(pkg.scripts.test, "proxy-wasm-as build && proxy-wasm-as test");
    assert.deepEqual(Object.keys(pkg.devDependencies).sort(), ["@as-pect/cli", "assemblyscript", "proxy-wasm-as", "tsx"]);
    const asconfig = JSON.parse(readFileSync(join(project, "asconfig.json"), "utf8"));
    assert.equal(asconfig.extends, "./node_modules/proxy-wasm-as/asconfig.json");
    assert.equal(asconfig.targets.release.outFile, "build/greeter.wasm");

    linkDependencies(project);
    useTestKitSource(join(project, "test/greeter.test.ts"));
    const build = captureIo(project);
    assert.equal(await main(["build"], build.io), 0, build.out.stderr);
    assert.match(build.out.stdout, /^✓ build\/greeter\.wasm {2}\d+ bytes {2}sha256 [0-9a-f]{64}\n {2}ABI 0\.2\.1, allocator malloc,/);
    const test = captureIo(project);
    assert.equal(await main(["test"], test.io), 0, test.out.stdout + test.out.stderr);
    assert.match(test.out.stdout, /\[Tests\]: .*2.* \/ 2/);
    assert.match(test.out.stdout, /^# pass 2$/m);
    assert.match(test.out.stdout, /all test suites passed\n$/);
    // The declared configuration's type, written beside the module by the build.
    assert.match(readFileSync(join(project, "build", "greeter.config.d.ts"), "utf8"), /\nexport interface Config \{\n {2}\/\*\*\n {3}\* Name of the response header that carries the greeting\.\n {3}\*\n {3}\* @default "x-greeting"\n {3}\*\/\n {2}header\?: string;\n\}\n/);
  });

  it("writes a TCP filter project whose filter builds and whose Node test passes", async () => {
    const project = join(root, "counter");
    const init = captureIo(root);
    assert.equal(await main(["init", "counter", "--kind", "tcp"], init.io), 0, init.out.stderr);
    assert.match(readFileSync(join(project, "assembly/index.ts"), "utf8"), /class Connection extends TcpContext/);
    linkDependencies(project);
    useTestKitSource(join(project, "test/counter.test.ts"));
    const build = captureIo(project);
    assert.equal(await main(["build"], build.io), 0, build.out.stderr);
    const test = captureIo(project);
    assert.equal(await main(["test", "--only", "node"], test.io), 0, test.out.stdout + test.out.stderr);
    assert.match(test.out.stdout, /^# pass 1$/m);
  });

  it("refuses a non-empty folder and bad options without writing anything", async () => {
    const busy = join(root, "busy");
    mkdirSync(busy);
    writeFileSync(join(busy, "keep.txt"), "mine");
    const cli = captureIo(root);
    assert.equal(await main(["init", "busy"], cli.io), 1);
    assert.match(cli.out.stderr, /busy is not empty; init only writes into an empty or new folder\n$/);
    const kind = captureIo(root);
    assert.equal(await main(["init", "x", "--kind", "udp"], kind.io), 2);
    assert.match(kind.out.stderr, /^error: --kind must be http or tcp, got "udp"/);
    const name = captureIo(root);
    assert.equal(await main(["init", "Bad Name"], name.io), 2);
    assert.match(name.out.stderr, /^error: "Bad Name" is not a usable package name/);
  });
});

describe("proxy-wasm-as init --sdk", () => {
  /** A stand-in for `npm pack`'s output: a gzipped tar with package/package.json. */
  function packTarball(path: string, pkg: Record<string, unknown>): void {
    writeFileSync(path, gzipSync(writeTar([{ name: "package/package.json", data: Buffer.from(JSON.stringify(pkg)) }])));
  }

  it("depends on a clone through a relative file: spec", async () => {
    const cli = captureIo(root);
    assert.equal(await main(["init", "from-clone", "--sdk", repo], cli.io), 0, cli.out.stderr);
    const pkg = JSON.parse(readFileSync(join(root, "from-clone/package.json"), "utf8"));
    const spec = `file:${relative(join(root, "from-clone"), repo)}`;
    assert.equal(pkg.devDependencies["proxy-wasm-as"], spec);
    assert.match(spec, /^file:\.\.\//);
    assert.match(cli.out.stdout, new RegExp(`\nproxy-wasm-as comes from ${spec.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} \\(npm links the folder: run \`npm ci\` in it first\\)\\.\n$`));
  });

  it("depends on a tarball made by npm pack", async () => {
    const tarball = join(root, "proxy-wasm-as-0.1.0.tgz");
    packTarball(tarball, { name: "proxy-wasm-as", version: "0.1.0" });
    const cli = captureIo(root);
    assert.equal(await main(["init", "from-tgz", "--sdk", "proxy-wasm-as-0.1.0.tgz"], cli.io), 0, cli.out.stderr);
    const pkg = JSON.parse(readFileSync(join(root, "from-tgz/package.json"), "utf8"));
    assert.equal(pkg.devDependencies["proxy-wasm-as"], "file:../proxy-wasm-as-0.1.0.tgz");
    assert.match(cli.out.stdout, /\nproxy-wasm-as comes from file:\.\.\/proxy-wasm-as-0\.1\.0\.tgz\.\n$/);
  });

  it("refuses what is not proxy-wasm-as, writing nothing", async () => {
    const other = join(root, "other-package");
    mkdirSync(other);
    writeFileSync(join(other, "package.json"), JSON.stringify({ name: "left-pad", version: "1.0.0" }));
    writeFileSync(join(root, "not-gzip.tgz"), "plain text");
    packTarball(join(root, "other.tgz"), { name: "left-pad" });
    const cases: Array<[string, string]> = [
      ["missing-dir", `error: --sdk: ${join(root, "missing-dir")} does not exist (give a clone of proxy-wasm-as or a .tgz made by \`npm pack\` in one)\n`],
      ["other-package", `error: --sdk: ${join(other, "package.json")} is the package "left-pad", not proxy-wasm-as\n`],
      ["not-gzip.tgz", `error: --sdk: ${join(root, "not-gzip.tgz")} is neither a folder nor a gzipped tarball (.tgz from \`npm pack\`)\n`],
      ["other.tgz", `error: --sdk: ${join(root, "other.tgz")}:package/package.json is the package "left-pad", not proxy-wasm-as\n`],
    ];
    for (const [sdk, message] of cases) {
      const cli = captureIo(root);
      assert.equal(await main(["init", "refused", "--sdk", sdk], cli.io), 1, sdk);
      assert.equal(cli.out.stderr, message);
      assert.equal(existsSync(join(root, "refused")), false);
    }
  });

  it("without --sdk, says what to do when the registry does not have the package", async () => {
    const cli = captureIo(root);
    assert.equal(await main(["init", "from-registry"], cli.io), 0, cli.out.stderr);
    const pkg = JSON.parse(readFileSync(join(root, "from-registry/package.json"), "utf8"));
    assert.equal(pkg.devDependencies["proxy-wasm-as"], "^0.1.0");
    assert.ok(
      cli.out.stdout.endsWith(
        "\nIf `npm install` fails with E404, proxy-wasm-as ^0.1.0 is not on the npm registry yet.\n" +
          "Depend on a clone instead (run `npm ci` in it first) or on a .tgz made by `npm pack` in one:\n" +
          `  npm install --save-dev ${repo}\n` +
          `or create the project with \`proxy-wasm-as init --sdk ${repo}\`.\n`,
      ),
      cli.out.stdout,
    );
  });
});
