// AssemblyScript transform for as-pect spec builds (listed in a project's as-pect.asconfig.json):
// lets a failure report name the spec line it stopped at.
//
// Why: as-pect reports a failed expectation or an abort with the message only. Its `expect`
// aborts inside as-pect's own library, and the wasm stack trace names functions, not lines, so
// nothing in the report says which line of the spec failed.
//
// What it does: in each spec file (a compiled entry whose name ends in `.spec.ts`, outside
// node_modules), every statement in a function body, and every top-level expression statement,
// is preceded by `__spec_line = <its line>;`, and the file exports `let __spec_line: i32`. When a
// test fails, the global holds the line of the last spec statement that started: the failing
// `expect(...)` line, or the line whose host call aborted. The reporter of
// `withProxyWasmHost` (proxy-wasm-as/testing/aspect) reads it. Helpers in other files are not
// instrumented: a failure inside one shows the spec line that called it.
//
// Cost: one global store per spec statement, spec builds only; filter builds never use this.

import { CommonFlags, Node, NodeKind, SourceKind, Token } from "assemblyscript/dist/assemblyscript.js";
import { Transform } from "assemblyscript/dist/transform.js";

/** The exported global that holds the current spec line. */
export const SPEC_LINE_GLOBAL = "__spec_line";

/** True for the sources this transform instruments. */
export function isSpecSource(source) {
  const path = source.normalizedPath;
  return source.sourceKind === SourceKind.UserEntry && path.endsWith(".spec.ts") && !path.startsWith("~lib/") && !path.includes("node_modules/");
}

function integer(value, range) {
  // asc's JS build represents i64 literals with its global `i64_new` (low, high).
  return Node.createIntegerLiteralExpression(globalThis.i64_new(value, 0), range);
}

function lineMarker(statement) {
  const range = statement.range;
  const line = range.source.lineAt(range.start);
  const assign = Node.createBinaryExpression(Token.Equals, Node.createIdentifierExpression(SPEC_LINE_GLOBAL, range), integer(line, range), range);
  return Node.createExpressionStatement(assign);
}

/** Each statement preceded by its line marker. */
function marked(statements) {
  const out = [];
  for (const statement of statements) out.push(lineMarker(statement), statement);
  return out;
}

/** Visits every AST node under `node` (not following ranges back to their source). */
function visit(node, onBlock, seen) {
  if (node === null || typeof node !== "object" || seen.has(node)) return;
  seen.add(node);
  if (Array.isArray(node)) {
    for (const item of node) visit(item, onBlock, seen);
    return;
  }
  if (typeof node.kind !== "number" || node.kind === NodeKind.Source) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === "range" || key === "parent") continue;
    if (value !== null && typeof value === "object") visit(value, onBlock, seen);
  }
  if (node.kind === NodeKind.Block) onBlock(node);
}

/** Instruments one spec source in place. */
export function instrumentSpecSource(source) {
  const seen = new Set();
  for (const statement of source.statements) visit(statement, (block) => (block.statements = marked(block.statements)), seen);
  const top = [];
  for (const statement of source.statements) {
    if (statement.kind === NodeKind.Expression) top.push(lineMarker(statement));
    top.push(statement);
  }
  const range = source.range;
  const declaration = Node.createVariableDeclaration(
    Node.createIdentifierExpression(SPEC_LINE_GLOBAL, range), null, CommonFlags.Export | CommonFlags.Let, null, integer(0, range), range,
  );
  source.statements = [Node.createVariableStatement(null, [declaration], range), ...top];
}

export default class SpecLines extends Transform {
  afterParse(parser) {
    for (const source of parser.sources) if (isSpecSource(source)) instrumentSpecSource(source);
  }
}
