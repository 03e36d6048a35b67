// as-pect specs see failure reports at the filter's source lines (issue #14): the as-pect
// integration reads the map beside the filter module (tests/aspect-kit/source-lines).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { buildFixture, type FixtureBuild } from "./fixture-build";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

let built: FixtureBuild;
before(async () => {
  built = await buildFixture();
}, { timeout: 240_000 });
after(() => built?.dispose());

function runAspect(filter: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["node_modules/@as-pect/cli/bin/asp.js", "--config", "tests/aspect-kit/source-lines/as-pect.config.js", "--no-logo"], {
      cwd: repoRoot,
      env: { ...process.env, FORCE_COLOR: "0", PWAS_SOURCE_LINES_FILTER: filter },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, output: output.replace(/\u001b\[[0-9;]*m/g, "") }));
  });
}

test("a spec reads the failure report with the filter's source line", { timeout: 300_000 }, async () => {
  const run = await runAspect(built.release);
  assert.equal(run.code, 0, run.output);
  assert.match(run.output, /✔ tests\/aspect-kit\/source-lines\/source_lines\.spec\.ts Pass: 1 \/ 1 /);
});
