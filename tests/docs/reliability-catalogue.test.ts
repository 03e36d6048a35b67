// docs/reliability.md cannot drift from the tests: every row of the fault catalogue names a test
// that exists, with exactly that name, and says where Envoy's behaviour comes from.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const repo = resolve(import.meta.dirname, "../..");

/**
 * How many faults the catalogue must hold (issue #12 asks for at least 60). Branches that add rows
 * for new fixes raise the count; on a branch with only the faults that held before, this fails
 * until those rows are merged.
 */
const MIN_FAULT_ROWS = 60;

/** The classes, one section each, in this order. */
const CLASSES = ["Module", "Filter output", "Client", "Upstream", "Resources", "Configuration"];

/** `envoy <path>` or `proxy-wasm-cpp-host <path>` (or another named project) with a source file path. */
const SOURCE_REFERENCE = /\b(envoy|proxy-wasm-cpp-host|proxy-wasm-cpp-sdk|proxy-wasm-rust-sdk|docker\/distribution|docker\/cli|oras-go|golang\/go) [\w./-]+\.(cc|h|proto|rs|go|md)\b/;

/** `` `tests/….test.ts` › "test name" `` */
const TEST_REFERENCE = /^`([^`]+\.test\.ts)` › "(.*)"$/;

interface Row {
  section: string;
  line: number;
  cells: string[];
}

/** The rows of every table under a `## ` heading, with the header and separator rows left out. */
function catalogueRows(markdown: string): Row[] {
  const rows: Row[] = [];
  let section = "";
  let tableLine = 0;
  markdown.split("\n").forEach((text, index) => {
    if (text.startsWith("## ")) {
      section = text.slice(3).trim();
      tableLine = 0;
      return;
    }
    if (!text.startsWith("|")) {
      tableLine = 0;
      return;
    }
    tableLine++;
    if (tableLine <= 2) return; // header and separator
    rows.push({ section, line: index + 1, cells: splitCells(text) });
  });
  return rows;
}

/** The cells of a table line; `|` inside backticks does not split. */
function splitCells(line: string): string[] {
  const cells: string[] = [];
  let current = "";
  let inCode = false;
  for (const char of line.slice(1, line.trimEnd().endsWith("|") ? line.trimEnd().length - 1 : undefined)) {
    if (char === "`") inCode = !inCode;
    if (char === "|" && !inCode) {
      cells.push(current.trim());
      current = "";
    } else current += char;
  }
  cells.push(current.trim());
  return cells;
}

/** The names of the tests declared in `source` with a literal name: `test("…"` and `it("…"`. */
function declaredTestNames(source: string): Set<string> {
  const names = new Set<string>();
  const declaration = /\b(?:test|it)\(\s*("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\$]|\\.)*`)/g;
  for (const match of source.matchAll(declaration)) {
    const literal = match[1];
    const body = literal.slice(1, -1);
    names.add(literal.startsWith('"') ? (JSON.parse(literal) as string) : body.replace(/\\(.)/g, "$1"));
  }
  return names;
}

const markdown = readFileSync(join(repo, "docs", "reliability.md"), "utf8");
const faultRows = catalogueRows(markdown).filter((row) => CLASSES.includes(row.section));

test("reliability catalogue: one section per class, in order, each with faults", () => {
  const headings = [...markdown.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
  const classHeadings = headings.filter((h) => CLASSES.includes(h));
  assert.deepEqual(classHeadings, CLASSES);
  for (const name of CLASSES) assert.ok(faultRows.some((row) => row.section === name), `section ${name} has no rows`);
  // Fixed faults go into their class's table, not a section of their own, so every row is checked.
  const tables = [...markdown.matchAll(/^## (.+)\n(?:(?!## )[^\n]*\n)*?\| fault \| Envoy \| ours \| test \|$/gm)].map((m) => m[1]);
  assert.deepEqual(tables, CLASSES);
});

test("reliability catalogue: every row has four cells: fault, Envoy with a source file, ours, test", () => {
  const problems: string[] = [];
  for (const row of faultRows) {
    if (row.cells.length !== 4) problems.push(`line ${row.line}: ${row.cells.length} cells`);
    else if (!SOURCE_REFERENCE.test(row.cells[1])) problems.push(`line ${row.line}: no source file in "${row.cells[1]}"`);
    else if (row.cells[0] === "" || row.cells[2] === "") problems.push(`line ${row.line}: empty fault or ours`);
  }
  assert.deepEqual(problems, []);
});

test("reliability catalogue: every row's test exists with exactly that name", () => {
  const problems: string[] = [];
  const names = new Map<string, Set<string>>();
  for (const row of faultRows) {
    const reference = TEST_REFERENCE.exec(row.cells[3] ?? "");
    if (reference === null) {
      problems.push(`line ${row.line}: the test cell is not \`file\` › "name": ${row.cells[3]}`);
      continue;
    }
    const [, file, name] = reference;
    const path = join(repo, file);
    if (!existsSync(path)) {
      problems.push(`line ${row.line}: ${file} does not exist`);
      continue;
    }
    if (!names.has(file)) names.set(file, declaredTestNames(readFileSync(path, "utf8")));
    if (!names.get(file)!.has(name)) problems.push(`line ${row.line}: ${file} has no test named "${name}"`);
  }
  assert.deepEqual(problems, []);
});

test("reliability catalogue: no fault is listed twice", () => {
  const seen = new Map<string, number>();
  const duplicates: string[] = [];
  for (const row of faultRows) {
    const key = row.cells[3];
    if (seen.has(key)) duplicates.push(`line ${row.line} repeats the test of line ${seen.get(key)}: ${key}`);
    else seen.set(key, row.line);
  }
  assert.deepEqual(duplicates, []);
});

test(`reliability catalogue: at least ${MIN_FAULT_ROWS} faults`, () => {
  assert.ok(faultRows.length >= MIN_FAULT_ROWS, `${faultRows.length} fault rows, want at least ${MIN_FAULT_ROWS}`);
});

test("reliability catalogue checker: parses cells, test names and references as written", () => {
  assert.deepEqual(splitCells("| a | `x | y` | c |"), ["a", "`x | y`", "c"]);
  const names = declaredTestNames(`test("a \\"quoted\\" name", () => {});\n  it('single', () => {});\n  it(\`back\`, () => {});\n  it(name, () => {});`);
  assert.deepEqual([...names], ['a "quoted" name', "single", "back"]);
  assert.deepEqual(
    catalogueRows("## Client\n\n| fault | Envoy | ours | test |\n| --- | --- | --- | --- |\n| f | e | o | t |\n\ntext\n").map((r) => [r.section, r.line, r.cells]),
    [["Client", 5, ["f", "e", "o", "t"]]],
  );
  assert.ok(SOURCE_REFERENCE.test("503 (envoy source/common/router/router.cc `onUpstreamReset`)"));
  assert.ok(!SOURCE_REFERENCE.test("503 (see Envoy's router)"));
  assert.deepEqual(TEST_REFERENCE.exec('`tests/a.test.ts` › "status 11 "reset""')?.slice(1), ["tests/a.test.ts", 'status 11 "reset"']);
});
