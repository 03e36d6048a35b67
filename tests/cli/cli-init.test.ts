import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { buildFilter } from "../../src/cli/commands/build";
import { main } from "../../src/cli/main";
import { COVERAGE_ENV } from "../../src/host/coverage-hits";
import { loadCheckedModule } from "../../src/host/module/load-checked-module";
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

/**
 * The published `proxy-wasm-as/testing` and `proxy-wasm-as/testing/aspect` entries need a build
 * (dist/); the project's test runs (as-pect and node --test) use the package's TypeScript sources
 * instead, through the source condition and tsx.
 */
function sourceIo(project: string) {
  const cli = captureIo(project);
  cli.io.env = { NODE_OPTIONS: "--conditions=proxy-wasm-as-source --import tsx", FORCE_COLOR: "0" };
  return cli;
}

/** Runs `proxy-wasm-as build` and `proxy-wasm-as test` in the project, as `npm test` does. */
async function npmTest(project: string, extra: string[] = []) {
  const build = captureIo(project);
  assert.equal(await main(["build"], build.io), 0, build.out.stderr);
  const test = sourceIo(project);
  const code = await main(["test", ...extra], test.io);
  return { code, stdout: test.out.stdout, stderr: test.out.stderr, build: build.out.stdout };
}

describe("proxy-wasm-as init", () => {
  it("writes an HTTP filter project whose filter builds, and whose host-backed specs and Node test pass", async () => {
    const project = join(root, "greeter");
    const init = captureIo(root);
    assert.equal(await main(["init", "greeter"], init.io), 0, init.out.stderr);
    assert.match(init.out.stdout, /^created HTTP filter project greeter in greeter:\n/);
    assert.match(init.out.stdout, /\n {2}assembly\/__tests__\/greeter\.spec\.ts\n/);
    const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
    assert.equal(pkg.name, "greeter");
    assert.equal(pkg.type, "module");
    assert.equal(pkg.scripts.test, "proxy-wasm-as build && proxy-wasm-as test");
    assert.deepEqual(Object.keys(pkg.devDependencies).sort(), ["@as-pect/cli", "assemblyscript", "proxy-wasm-as", "tsx"]);
    const asconfig = JSON.parse(readFileSync(join(project, "asconfig.json"), "utf8"));
    assert.equal(asconfig.extends, "./node_modules/proxy-wasm-as/asconfig.json");
    assert.equal(asconfig.targets.release.outFile, "build/greeter.wasm");
    // The as-pect config is the host-backed one, and the spec uses the AssemblyScript test API.
    const aspectConfig = readFileSync(join(project, "as-pect.config.js"), "utf8");
    assert.match(aspectConfig, /^import \{ withProxyWasmHost \} from "proxy-wasm-as\/testing\/aspect";$/m);
    assert.match(aspectConfig, /filter: "build\/greeter\.wasm"/);
    assert.match(readFileSync(join(project, "assembly/__tests__/greeter.spec.ts"), "utf8"), /from "proxy-wasm-as\/assembly\/testing"/);
    assert.match(readFileSync(join(project, "test/greeter.test.ts"), "utf8"), /from "proxy-wasm-as\/testing"/);

    linkDependencies(project);
    const run = await npmTest(project);
    assert.match(run.build, /^✓ build\/greeter\.wasm {2}\d+ bytes {2}sha256 [0-9a-f]{64}\n {2}ABI 0\.2\.1, allocator malloc,/);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    // The spec that plays requests through the filter in the host, and the plain-logic spec.
    assert.match(run.stdout, /^✔ assembly\/__tests__\/greeter\.spec\.ts Pass: 2 \/ 2 /m);
    assert.match(run.stdout, /^✔ assembly\/__tests__\/greeting\.spec\.ts Pass: 2 \/ 2 /m);
    assert.match(run.stdout, /\[Tests\]: 4 \/ 4\n/);
    assert.match(run.stdout, /^# pass 2$/m);
    assert.match(run.stdout, /all test suites passed\n$/);
    // Output fit for a log: no logo, no colour codes when not on a terminal.
    assert.doesNotMatch(run.stdout, /\u001b\[/);
    assert.doesNotMatch(run.stdout, /___/);
    assert.match(run.stdout, /^> as-pect\n⚡AS-pect⚡ Test suite runner \[8\.1\.0\]\n/);
  });

  it("reports a failing generated spec with its name, the expectation and the spec line", async () => {
    const project = join(root, "greeter");
    const spec = join(project, "assembly/__tests__/greeter.spec.ts");
    const text = readFileSync(spec, "utf8");
    const wrong = 'expect(stream.downstream.header("x-greeting")).toBe("hello from greeter");';
    assert.ok(text.includes(wrong));
    writeFileSync(spec, text.replace(wrong, wrong.replace("hello from greeter", "hello from nobody")));
    const line = text.split("\n").findIndex((l) => l.includes(wrong)) + 1;
    try {
      const run = await npmTest(project, ["--only", "aspect"]);
      assert.equal(run.code, 1, run.stdout + run.stderr);
      const lines = run.stdout.split("\n");
      const at = lines.indexOf("  ❌ greeter in the host › adds x-greeting to the response and logs the path");
      assert.notEqual(at, -1, run.stdout);
      assert.deepEqual(lines.slice(at + 1, at + 5), [
        '     [Actual]  : "hello from greeter"',
        '     [Expected]: "hello from nobody"',
        `     at assembly/__tests__/greeter.spec.ts:${line}`,
        `     ${line} | ${wrong.replace("hello from greeter", "hello from nobody")}`,
      ]);
      assert.match(run.stdout, /^❌ assembly\/__tests__\/greeter\.spec\.ts Pass: 1 \/ 2 /m);
      assert.match(run.stdout, /1 test suite\(s\) failed\n$/);
    } finally {
      writeFileSync(spec, text);
    }
  });

  it("test --coverage: lines and branches of assembly/ that the specs and Node tests ran; fewer when a test goes", async () => {
    const project = join(root, "greeter");
    const full = sourceIo(project);
    assert.equal(await main(["test", "--coverage"], full.io), 0, full.out.stdout + full.out.stderr);
    const out = full.out.stdout;
    assert.match(out, /^> coverage build\n✓ build\/greeter\.wasm /);
    assert.match(out, /\n> coverage of the project's AssemblyScript \(coverage\/lcov\.info\)\n/);
    assert.match(out, /^ {2}assembly\/index\.ts +lines 11\/11 \(100\.0%\) +branches 3\/4 \(75\.0%\)$/m);
    assert.match(out, /^ {2}assembly\/greeting\.ts +lines 1\/1 \(100\.0%\) +branches 1\/2 \(50\.0%\)$/m);
    // Library (~lib) and SDK code is not reported.
    assert.doesNotMatch(out, /~lib|proxy-wasm-as\/assembly/);
    const lcov = readFileSync(join(project, "coverage/lcov.info"), "utf8");
    assert.match(lcov, /^SF:assembly\/index\.ts\n(DA:\d+,[1-9]\d*\n)+LF:11\nLH:11\n/m);
    // The release module is back: no coverage counters in it.
    assert.match(out, /> release build \(the coverage build replaced it\)\n✓ build\/greeter\.wasm /);
    assert.ok(!readFileSync(join(project, "build/greeter.wasm")).includes("proxy_wasm_as_coverage"));

    // Without the Node test of /healthz (the as-pect run is left out too), its lines did not run.
    const nodeTest = join(project, "test/greeter.test.ts");
    const text = readFileSync(nodeTest, "utf8");
    const healthz = text.indexOf('test("answers /healthz itself"');
    assert.notEqual(healthz, -1);
    writeFileSync(nodeTest, text.slice(0, healthz));
    try {
      const fewer = sourceIo(project);
      assert.equal(await main(["test", "--coverage", "--only", "node"], fewer.io), 0, fewer.out.stdout + fewer.out.stderr);
      const lines = readFileSync(join(project, "assembly/index.ts"), "utf8").split("\n");
      const reply = lines.findIndex((l) => l.includes("sendLocalResponse(")) + 1;
      assert.match(fewer.out.stdout, new RegExp(`^ {2}assembly/index\\.ts +lines 9/11 \\(81\\.8%\\) +branches 2/4 \\(50\\.0%\\) +not run: ${reply}-${reply + 1}$`, "m"));
    } finally {
      writeFileSync(nodeTest, text);
    }
  });

  it("a coverage build loads only while coverage is collected, as Envoy would refuse its counter import", async () => {
    const project = join(root, "greeter");
    const raw = mkdtempSync(join(root, "raw-"));
    const transform = (await import(new URL("../../transform/coverage.mjs", import.meta.url).href)) as { default: unknown };
    const build = captureIo(project);
    process.env[COVERAGE_ENV] = raw;
    try {
      const built = await buildFilter(build.io, { debug: false, out: "build/coverage-check.wasm", transforms: [transform.default] });
      assert.notEqual(built, null, build.out.stderr);
    } finally {
      delete process.env[COVERAGE_ENV];
    }
    const bytes = readFileSync(join(project, "build/coverage-check.wasm"));
    assert.throws(() => loadCheckedModule(bytes), (error: Error) => {
      assert.match(error.message, /Failed to load Wasm module due to a missing import: proxy_wasm_as_coverage\.m[0-9a-f]{12}/);
      return true;
    });
  });

  it("writes a TCP filter project whose filter builds, and whose host-backed spec and Node test pass", async () => {
    const project = join(root, "counter");
    const init = captureIo(root);
    assert.equal(await main(["init", "counter", "--kind", "tcp"], init.io), 0, init.out.stderr);
    assert.match(readFileSync(join(project, "assembly/index.ts"), "utf8"), /class Connection extends TcpContext/);
    assert.match(readFileSync(join(project, "assembly/__tests__/counter.spec.ts"), "utf8"), /host\.tcp\(\)/);
    linkDependencies(project);
    const run = await npmTest(project);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^✔ assembly\/__tests__\/counter\.spec\.ts Pass: 1 \/ 1 /m);
    assert.match(run.stdout, /\[Tests\]: 3 \/ 3\n/);
    assert.match(run.stdout, /^# pass 1$/m);
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
