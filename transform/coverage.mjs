// AssemblyScript transform for coverage builds only (`proxy-wasm-as test --coverage` passes it to
// asc; no asconfig lists it, so release and debug builds never carry it).
//
// What it does: in the project's own sources (not ~lib: the standard library and packages such as
// the SDK), every statement in a block or switch case gets a line point, and every `if` (with an
// `else` made up when there is none), `? :` and `case` gets one point per branch. A point is a
// call `__coverage_hit(<id>)` placed just before the statement or at the start of the branch; the
// call is an import, `proxy_wasm_as_coverage.<build key>`, that the project's host counts when
// PROXY_WASM_AS_COVERAGE names a folder (src/host/coverage-hits.ts). No other Proxy-Wasm host
// provides it, so an instrumented module cannot be deployed by mistake.
//
// Where the points are: written at compile time to <PROXY_WASM_AS_COVERAGE>/map-<build key>.json
// ({ key, points: [{ id, file, line, kind: "line" | "branch", block?, branch? }] }). The report
// (src/cli/coverage-report.ts) joins it with the hit counts the test processes write.
//
// Not counted: `&&` / `||` operands, expression-bodied arrow functions, and branches that asc
// drops at compile time (e.g. `if (isString<T>())` in generic code is a branch never taken).

import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Node, NodeKind } from "assemblyscript/dist/assemblyscript.js";
import { Transform } from "assemblyscript/dist/transform.js";

/** The environment variable naming the folder where maps and hit counts go. */
export const COVERAGE_ENV = "PROXY_WASM_AS_COVERAGE";
/** The import module of the hit counter (src/host/coverage-hits.ts provides it). */
export const COVERAGE_IMPORT_MODULE = "proxy_wasm_as_coverage";
const HIT = "__coverage_hit";

/** True for the sources that are the project's own (not the standard library or a package). */
export function isProjectSource(source) {
  const path = source.normalizedPath;
  return !path.startsWith("~lib/") && !path.includes("node_modules/");
}

// Declarations that run no code of their own where they stand.
const NOT_EXECUTED = new Set([
  NodeKind.FunctionDeclaration, NodeKind.ClassDeclaration, NodeKind.InterfaceDeclaration, NodeKind.EnumDeclaration,
  NodeKind.NamespaceDeclaration, NodeKind.TypeDeclaration, NodeKind.Import, NodeKind.Export, NodeKind.ExportDefault,
  NodeKind.ExportImport, NodeKind.Empty,
].filter((kind) => kind !== undefined));

const TOP_LEVEL_NOT_LINES = new Set([...NOT_EXECUTED, NodeKind.Variable]);

class Instrumenter {
  constructor(points) {
    this.points = points;
    this.blocks = 0;
    /** Blocks that start a branch: block -> its branch point id. */
    this.branchOf = new Map();
    this.seen = new Set();
  }

  point(range, kind, extra = {}) {
    const id = this.points.length;
    this.points.push({ id, file: range.source.normalizedPath, line: range.source.lineAt(range.start), kind, ...extra });
    return id;
  }

  hit(id, range) {
    const call = Node.createCallExpression(Node.createIdentifierExpression(HIT, range), null, [Node.createIntegerLiteralExpression(globalThis.i64_new(id, 0), range)], range);
    return call;
  }

  hitStatement(id, range) {
    return Node.createExpressionStatement(this.hit(id, range));
  }

  /** `statement` as a block, a new one when needed (so a branch point has a place to go). */
  asBlock(statement, range) {
    if (statement === null) return Node.createBlockStatement([], range);
    if (statement.kind === NodeKind.Block) return statement;
    return Node.createBlockStatement([statement], statement.range);
  }

  /** Line points before each executed statement; a leading super() call stays first. */
  lineMarked(statements, skip = NOT_EXECUTED) {
    const out = [];
    for (const statement of statements) {
      if (skip.has(statement.kind)) {
        out.push(statement);
        continue;
      }
      const id = this.point(statement.range, "line");
      if (isSuperCall(statement)) out.push(statement, this.hitStatement(id, statement.range));
      else out.push(this.hitStatement(id, statement.range), statement);
    }
    return out;
  }

  branchBlocks(node, parts) {
    const block = this.blocks++;
    parts.forEach((part, branch) => this.branchOf.set(part, this.point(node.range, "branch", { block, branch })));
  }

  visit(node) {
    if (node === null || typeof node !== "object" || this.seen.has(node)) return;
    this.seen.add(node);
    if (Array.isArray(node)) {
      for (const item of node) this.visit(item);
      return;
    }
    if (typeof node.kind !== "number" || node.kind === NodeKind.Source) return;
    this.reshape(node);
    for (const [key, value] of Object.entries(node)) {
      if (key === "range" || key === "parent") continue;
      if (value !== null && typeof value === "object") this.visit(value);
    }
    if (node.kind === NodeKind.Block || node.kind === NodeKind.SwitchCase) {
      const marked = this.lineMarked(node.statements);
      const branch = this.branchOf.get(node);
      node.statements = branch === undefined ? marked : [this.hitStatement(branch, node.range), ...marked];
    }
  }

  /** Gives every branch a block (or, for `? :`, a comma expression) to count in. */
  reshape(node) {
    switch (node.kind) {
      case NodeKind.If:
        node.ifTrue = this.asBlock(node.ifTrue, node.range);
        node.ifFalse = this.asBlock(node.ifFalse, node.range);
        this.branchBlocks(node, [node.ifTrue, node.ifFalse]);
        break;
      case NodeKind.Switch:
        this.branchBlocks(node, node.cases);
        break;
      case NodeKind.Ternary: {
        const block = this.blocks++;
        const then = this.point(node.range, "branch", { block, branch: 0 });
        const otherwise = this.point(node.range, "branch", { block, branch: 1 });
        node.ifThen = Node.createCommaExpression([this.hit(then, node.ifThen.range), node.ifThen], node.ifThen.range);
        node.ifElse = Node.createCommaExpression([this.hit(otherwise, node.ifElse.range), node.ifElse], node.ifElse.range);
        break;
      }
      case NodeKind.For:
      case NodeKind.ForOf:
      case NodeKind.While:
      case NodeKind.Do:
        node.body = this.asBlock(node.body, node.range);
        break;
    }
  }
}

function isSuperCall(statement) {
  return statement.kind === NodeKind.Expression && statement.expression.kind === NodeKind.Call && statement.expression.expression.kind === NodeKind.Super;
}

export default class Coverage extends Transform {
  afterParse(parser) {
    const dir = process.env[COVERAGE_ENV];
    if (!dir) throw new Error(`the coverage transform needs ${COVERAGE_ENV} (the folder for the coverage map); proxy-wasm-as test --coverage sets it`);
    const key = `m${randomBytes(6).toString("hex")}`;
    const points = [];
    const instrumenter = new Instrumenter(points);
    for (const source of parser.sources) {
      if (!isProjectSource(source)) continue;
      for (const statement of source.statements) instrumenter.visit(statement);
      // Top level: the module's start code (e.g. the registerRoot call); globals are not lines.
      source.statements = instrumenter.lineMarked(source.statements, TOP_LEVEL_NOT_LINES);
    }
    // The hit counter, visible everywhere as a global (as the standard library's functions are).
    const library = `@global @external("${COVERAGE_IMPORT_MODULE}", "${key}") export declare function ${HIT}(id: u32): void;\n`;
    parser.parseFile(library, `~lib/proxy-wasm-as-coverage/${key}.ts`, false);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `map-${key}.json`), JSON.stringify({ key, points }));
  }
}
