// The coverage report of `proxy-wasm-as test --coverage`: maps (where the points are) joined with
// the hit files of several test processes, as lcov and as the text summary.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { lineRanges, readCoverage, toLcov, toTextSummary } from "../../src/cli/coverage-report";

const dir = mkdtempSync(join(tmpdir(), "pwas-coverage-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const map = {
  key: "mabc",
  points: [
    { id: 0, file: "assembly/index.ts", line: 3, kind: "line" },
    { id: 1, file: "assembly/index.ts", line: 4, kind: "line" },
    { id: 2, file: "assembly/index.ts", line: 4, kind: "branch", block: 0, branch: 0 },
    { id: 3, file: "assembly/index.ts", line: 4, kind: "branch", block: 0, branch: 1 },
    { id: 4, file: "assembly/index.ts", line: 5, kind: "line" },
    { id: 5, file: "assembly/index.ts", line: 7, kind: "line" },
    { id: 6, file: "assembly/index.ts", line: 8, kind: "line" },
    { id: 7, file: "assembly/index.ts", line: 8, kind: "line" },
    { id: 8, file: "assembly/a.ts", line: 1, kind: "line" },
  ],
};

describe("coverage report", () => {
  it("adds the hits of every process, takes a line's busiest statement, and writes lcov", () => {
    writeFileSync(join(dir, "map-mabc.json"), JSON.stringify(map));
    // Two test processes; a key of another build (not in a map) is ignored.
    writeFileSync(join(dir, "hits-1-0-aa.json"), JSON.stringify({ mabc: { 0: 2, 1: 2, 2: 1, 4: 1, 6: 1, 7: 3 } }));
    writeFileSync(join(dir, "hits-2-0-bb.json"), JSON.stringify({ mabc: { 0: 1, 1: 1, 2: 1 }, mzzz: { 0: 9 } }));
    const files = readCoverage(dir);
    assert.deepEqual(files.map((f) => f.file), ["assembly/a.ts", "assembly/index.ts"]);
    assert.equal(
      toLcov(files),
      [
        "TN:", "SF:assembly/a.ts", "DA:1,0", "LF:1", "LH:0", "BRF:0", "BRH:0", "end_of_record",
        "TN:", "SF:assembly/index.ts", "DA:3,3", "DA:4,3", "DA:5,1", "DA:7,0", "DA:8,3", "LF:5", "LH:4",
        "BRDA:4,0,0,2", "BRDA:4,0,1,0", "BRF:2", "BRH:1", "end_of_record", "",
      ].join("\n"),
    );
    assert.equal(
      toTextSummary(files),
      [
        "  assembly/a.ts      lines 0/1 (0.0%)   branches 0/0 (100.0%)  not run: 1",
        "  assembly/index.ts  lines 4/5 (80.0%)  branches 1/2 (50.0%)   not run: 7",
        "  all files          lines 4/6 (66.7%)  branches 1/2 (50.0%)",
        "",
      ].join("\n"),
    );
  });

  it("shows runs of lines as ranges", () => {
    assert.equal(lineRanges([]), "");
    assert.equal(lineRanges([4]), "4");
    assert.equal(lineRanges([3, 4, 5, 9, 11, 12]), "3-5, 9, 11-12");
  });

  it("refuses a folder without a map (the module was not built for coverage)", () => {
    const empty = mkdtempSync(join(dir, "empty-"));
    assert.throws(() => readCoverage(empty), /^Error: no coverage map in .*empty-.*: the module was not built for coverage$/);
  });
});
