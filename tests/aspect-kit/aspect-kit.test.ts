// Runs as-pect on the demo config (specs that drive the built add_header example through the
// host) and on a deliberately failing spec, and checks what as-pect reports for each.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

interface AspectRun {
  readonly code: number;
  readonly output: string;
}

function runAspect(config: string): Promise<AspectRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["node_modules/@as-pect/cli/bin/asp.js", "--config", config, "--no-logo"], {
      cwd: repoRoot,
      env: { ...process.env, FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, output: output.replace(/\u001b\[[0-9;]*m/g, "") }));
  });
}

// Both runs start together: each is mostly compile time, and the box has two cores.
const passing = runAspect("tests/aspect-kit/as-pect.config.js");
const failing = runAspect("tests/aspect-kit/failing/as-pect.config.js");

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

test("a failing spec is reported as failed, each failure with its message", async () => {
  const run = await failing;
  assert.equal(run.code, 1, run.output);
  assert.match(run.output, /❌ tests\/aspect-kit\/failing\/expected-failure\.spec\.ts Pass: 1 \/ 4 /);
  const lines = run.output.split("\n").map((line) => line.trim());
  // A wrong expectation: as-pect shows both values.
  const wrong = lines.indexOf("❌ a wrong header expectation fails -");
  assert.notEqual(wrong, -1, run.output);
  assert.equal(lines[wrong + 1], '[Actual]  : "world!"');
  assert.equal(lines[wrong + 2], '[Expected]: "world?"');
  // Host-side errors reach the report with the host's text, not as an empty message.
  assert.ok(lines.includes(`❌ a host error aborts with the host's message - no filter named "no-such-filter" in the as-pect config (known filters: (default))`), run.output);
  assert.ok(lines.includes("❌ a plugin that does not start aborts start() with the start error - PluginStartError: Failed to configure Wasm plugin in proxy_on_configure"), run.output);
  assert.doesNotMatch(run.output, /❌ a passing test next to them still passes/);
  assert.match(run.output, /\[Tests\]: 1 \/ 4\n/);
  assert.match(run.output, /\[Result\]: ❌ Fail/);
});
