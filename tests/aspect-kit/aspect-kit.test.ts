// Runs as-pect on the demo config (specs that drive the built add_header example through the
// host) and on a deliberately failing spec, through the runner `npm test` and `proxy-wasm-as test`
// use, and checks what each reports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runAspectProcess, aspectColour } from "../../src/cli/aspect-process";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

interface AspectRun {
  readonly code: number;
  readonly output: string;
}

async function runAspect(config: string): Promise<AspectRun> {
  let output = "";
  const sink = { write: (text: string) => (output += text) };
  // Not a terminal, and no colour asked for: the report must carry no escape codes.
  const env = { ...process.env };
  delete env.FORCE_COLOR;
  delete env.NO_COLOR;
  const run = await runAspectProcess({ cwd: repoRoot, config, env, stdout: sink, stderr: sink });
  assert.equal(run.stdout, output.slice(output.indexOf("⚡")));
  return { code: run.code, output };
}

// Both runs start together: each is mostly compile time, and the box has two cores.
const passing = runAspect("tests/aspect-kit/as-pect.config.js");
const failing = runAspect("tests/aspect-kit/failing/as-pect.config.js");
const failingSelf = runAspect("tests/aspect-kit/failing-self/as-pect.config.js");

test("the example filters the demo uses are built (npm run build)", () => {
  for (const name of ["add_header", "http_auth_random", "metrics", "network", "envoy_tcp_routing", "grpc_auth_random", "http_body", "properties", "dispatch_call_on_tick"]) {
    const path = fileURLToPath(new URL(`../../examples/${name}/build/${name}.wasm`, import.meta.url));
    assert.ok(existsSync(path), `missing ${path}: run npm run build first`);
  }
});

test("the demo specs drive add_header through the host and pass", async () => {
  const run = await passing;
  assert.equal(run.code, 0, run.output);
  assert.match(run.output, /✔ tests\/aspect-kit\/add_header\.spec\.ts Pass: 5 \/ 5 /);
  assert.match(run.output, /✔ tests\/aspect-kit\/named_filters\.spec\.ts Pass: 6 \/ 6 /);
  assert.match(run.output, /✔ tests\/aspect-kit\/tcp\.spec\.ts Pass: 7 \/ 7 /);
  assert.match(run.output, /✔ tests\/aspect-kit\/grpc\.spec\.ts Pass: 5 \/ 5 /);
  assert.match(run.output, /✔ tests\/aspect-kit\/bodies_properties_plugins\.spec\.ts Pass: 8 \/ 8 /);
  assert.match(run.output, /\[Tests\]: 31 \/ 31\n/);
  assert.match(run.output, /\[Result\]: ✔ Pass!/);
  assert.doesNotMatch(run.output, /❌/);
});

test("as-pect's output has no logo and no colour codes off a terminal", async () => {
  for (const run of [await passing, await failing]) {
    assert.doesNotMatch(run.output, /\u001b\[/);
    assert.doesNotMatch(run.output, /___/);
    assert.match(run.output, /^⚡AS-pect⚡ Test suite runner \[8\.1\.0\]\nUsing config: /);
    // The summary ends in a newline (as-pect's own ends in spaces).
    assert.match(run.output, /\[Result\]: .*\n\s*$/);
    assert.ok(run.output.endsWith("\n"));
  }
});

test("colour follows the terminal unless FORCE_COLOR or NO_COLOR says otherwise", () => {
  assert.equal(aspectColour({}, { isTTY: true }), "2");
  assert.equal(aspectColour({}, { isTTY: false }), "0");
  assert.equal(aspectColour({}, {}), "0");
  assert.equal(aspectColour({ NO_COLOR: "1" }, { isTTY: true }), "0");
  assert.equal(aspectColour({ FORCE_COLOR: "1" }, { isTTY: false }), "1");
  assert.equal(aspectColour({ FORCE_COLOR: "0", NO_COLOR: "" }, { isTTY: true }), "0");
});

test("a failing spec is reported with the test's full name, the expectation and the spec line", async () => {
  const run = await failing;
  assert.equal(run.code, 1, run.output);
  assert.match(run.output, /^❌ tests\/aspect-kit\/failing\/expected-failure\.spec\.ts Pass: 1 \/ 4 /m);
  const lines = run.output.split("\n");
  const at = (name: string) => {
    const index = lines.indexOf(`  ❌ failures surface through as-pect › ${name}`);
    assert.notEqual(index, -1, run.output);
    return index;
  };
  const file = "tests/aspect-kit/failing/expected-failure.spec.ts";
  // A wrong expectation: both values, then where.
  const wrong = at("a wrong header expectation fails");
  assert.deepEqual(lines.slice(wrong + 1, wrong + 5), [
    '     [Actual]  : "world!"',
    '     [Expected]: "world?"',
    `     at ${file}:11`,
    '     11 | expect(stream.downstream.header("hello")).toBe("world?");',
  ]);
  // Host-side errors: the host's text and the spec line of the call, and not the values of the
  // failed expectation before them (as-pect keeps those until the next expectation).
  const hostError = at("a host error aborts with the host's message");
  assert.deepEqual(lines.slice(hostError + 1, hostError + 4), [
    '     no filter named "no-such-filter" in the as-pect config (known filters: (default))',
    `     at ${file}:15`,
    '     15 | new TestHost("no-such-filter").start();',
  ]);
  const startError = at("a plugin that does not start aborts start() with the start error");
  assert.deepEqual(lines.slice(startError + 1, startError + 4), [
    "     PluginStartError: Failed to configure Wasm plugin in proxy_on_configure",
    `     at ${file}:19`,
    '     19 | new TestHost().pluginConfig("[1]").start();',
  ]);
  assert.doesNotMatch(run.output, /a passing test next to them still passes/);
  assert.match(run.output, /\[Tests\]: 1 \/ 4\n/);
  assert.match(run.output, /\[Result\]: ❌ Fail/);
});

test("a spec module that is its own filter: a failure inside a callback fails that test with the host's report", async () => {
  const run = await failingSelf;
  assert.equal(run.code, 1, run.output);
  assert.match(run.output, /^❌ tests\/aspect-kit\/failing-self\/callback-failure\.spec\.ts Pass: 1 \/ 3 /m);
  const lines = run.output.split("\n");
  const at = (name: string) => {
    const index = lines.indexOf(`  ❌ failures inside callbacks › ${name}`);
    assert.notEqual(index, -1, run.output);
    return index;
  };
  const wrong = at("a wrong expectation inside a callback fails the test with the host's report");
  assert.equal(lines[wrong + 1], "     the spec module failed inside a host callback: Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable");
  const rest = lines.slice(wrong + 2).join("\n");
  assert.match(rest, /^\s+\[Actual\]  : "\/x"\n\s+\[Expected\]: "\/y"\n\s+at tests\/aspect-kit\/failing-self\/callback-failure\.spec\.ts:17$/m);
  const after = at("the module's VM stays failed for the tests after it");
  assert.match(lines[after + 1], /^ {5}the host did not call proxy_on_request_headers \(after a failure inside a callback, the module's VM stays failed: fix the first failing test\)$/);
  assert.doesNotMatch(run.output, /a passing test runs its callback/);
});

