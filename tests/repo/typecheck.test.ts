// The Node side must type-check under `strict`: a type error here is a bug a user of the published
// typings would meet.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

test("src, tests, examples' tests and bench type-check with tsc --noEmit", { timeout: 300_000 }, () => {
  const result = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.json"), "--noEmit", "--pretty", "false"], {
    cwd: root,
    encoding: "utf8",
  });
  assert.equal(result.stdout + result.stderr, "", "tsc reported errors");
  assert.equal(result.status, 0);
});
