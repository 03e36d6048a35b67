// The test kit works under vitest and jest as well as node:test: each runner runs its small suite
// in tests/testing/runners/ (and nothing else of the repo), and a deliberately failing case, run
// on its own, is reported as failed with the runner's assertion text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const RUNNERS = "tests/testing/runners";
const VITEST = join(REPO, "node_modules/vitest/vitest.mjs");
const JEST = join(REPO, "node_modules/jest/bin/jest.js");

interface Run {
  readonly code: number;
  readonly output: string;
  readonly report: unknown;
}

/** Runs node with `args` in the repo root; resolves with the exit code, the output and the JSON report. */
function runNode(args: string[], reportFile: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd: REPO, env: { ...process.env, NO_COLOR: "1", CI: "1", NODE_OPTIONS: "" }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        let report: unknown = null;
        try {
          report = JSON.parse(readFileSync(reportFile, "utf8"));
        } catch {
          // No report: the assertions below show the output.
        }
        resolve({ code, output: `${stdout}\n${stderr}`, report });
      },
    );
  });
}

interface JsonAssertion {
  readonly title: string;
  readonly status: string;
  readonly failureMessages: string[];
}
interface JsonReport {
  readonly numPassedTests: number;
  readonly numFailedTests: number;
  readonly numTotalTestSuites: number;
  readonly testResults: { readonly name: string; readonly assertionResults: JsonAssertion[] }[];
}

/** Both runners write the same JSON report shape (vitest's json reporter follows jest's). */
function summary(report: unknown): { files: string[]; passed: number; failed: number; tests: JsonAssertion[] } {
  const r = report as JsonReport;
  return {
    files: r.testResults.map((t) => t.name.slice(REPO.length)).sort(),
    passed: r.numPassedTests,
    failed: r.numFailedTests,
    tests: r.testResults.flatMap((t) => t.assertionResults),
  };
}

function withReport<T>(body: (reportFile: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "pwas-runners-"));
  return body(join(dir, "report.json")).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const vitest = (config: string, reportFile: string) =>
  runNode([VITEST, "run", "--config", `${RUNNERS}/${config}`, "--reporter=json", `--outputFile=${reportFile}`], reportFile);
const jest = (config: string, reportFile: string) =>
  runNode(["--experimental-vm-modules", JEST, "--config", `${RUNNERS}/${config}`, "--ci", "--json", `--outputFile=${reportFile}`], reportFile);

test("vitest runs the kit's suite: add_header's exact headers pass", () =>
  withReport(async (reportFile) => {
    const run = await vitest("vitest.config.ts", reportFile);
    assert.equal(run.code, 0, run.output);
    const result = summary(run.report);
    assert.deepEqual(result.files, [`${RUNNERS}/add_header.vitest.ts`], "only the runners suite, never the repo's other tests");
    assert.deepEqual(result.tests.map((t) => [t.title, t.status]), [["add_header under vitest: hello: world! and location: envoy-wasm", "passed"]]);
  }));

test("vitest reports the deliberately failing case as failed, with its assertion text", () =>
  withReport(async (reportFile) => {
    const run = await vitest("vitest.failing.config.ts", reportFile);
    assert.equal(run.code, 1, run.output);
    const result = summary(run.report);
    assert.deepEqual(result.files, [`${RUNNERS}/failing/add_header_wrong.vitest.ts`]);
    assert.equal(result.passed, 0);
    assert.equal(result.failed, 1);
    const [failed] = result.tests;
    assert.equal(failed.title, "add_header under vitest: a wrong expectation fails");
    assert.equal(failed.status, "failed");
    assert.match(failed.failureMessages.join("\n"), /AssertionError: expected 'world!' to be 'mars!'/);
  }));

test("jest runs the kit's suite: add_header's exact headers pass", () =>
  withReport(async (reportFile) => {
    const run = await jest("jest.config.mjs", reportFile);
    assert.equal(run.code, 0, run.output);
    const result = summary(run.report);
    assert.deepEqual(result.files, [`${RUNNERS}/add_header.jest.ts`], "only the runners suite, never the repo's other tests");
    assert.deepEqual(result.tests.map((t) => [t.title, t.status]), [["add_header under jest: hello: world! and location: envoy-wasm", "passed"]]);
  }));

test("jest reports the deliberately failing case as failed, with its assertion text", () =>
  withReport(async (reportFile) => {
    const run = await jest("jest.failing.config.mjs", reportFile);
    assert.equal(run.code, 1, run.output);
    const result = summary(run.report);
    assert.deepEqual(result.files, [`${RUNNERS}/failing/add_header_wrong.jest.ts`]);
    assert.equal(result.passed, 0);
    assert.equal(result.failed, 1);
    const [failed] = result.tests;
    assert.equal(failed.title, "add_header under jest: a wrong expectation fails");
    assert.equal(failed.status, "failed");
    const message = failed.failureMessages.join("\n");
    assert.match(message, /expect\(received\)\.toBe\(expected\)/);
    assert.match(message, /Expected: "mars!"\n\s*Received: "world!"/);
  }));
