/**
 * The as-pect reporter `withProxyWasmHost` installs: as-pect's summary, but each failed test is
 * shown with its full name (groups › test), its message, the expectation's actual and expected
 * values, and the spec line it stopped at with that line's text:
 *
 *     ❌ assembly/__tests__/greeter.spec.ts Pass: 1 / 2 Todo: 0 Time: 4.1ms
 *       ❌ greeter in the host › answers /healthz itself
 *          [Actual]  : "StopAllIterationAndWatermark"
 *          [Expected]: "StopIteration"
 *          at assembly/__tests__/greeter.spec.ts:14
 *          14 | expect(stream.requestHeaders(get("/healthz"), true)).toBe(Action.StopIteration);
 *
 * The line comes from the spec-lines transform (proxy-wasm-as/transform/spec-lines in
 * as-pect.asconfig.json); without it the `at` line is left out. No colour codes: the summary
 * as-pect prints after the reporter colours itself by the terminal.
 *
 * as-pect leaves the actual/expected values of a failed expectation in place until the next
 * expectation; a later test that aborts outside an expectation would show them again, so values
 * already shown for an earlier failure are not repeated.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/** The exported global the spec-lines transform keeps (transform/spec-lines.mjs). */
export const SPEC_LINE_GLOBAL = "__spec_line";

/** The parts of as-pect 8's ReflectedValue the reporter uses. */
interface Reflected {
  readonly negated?: boolean;
  stringify(options: { indent: number }): string;
}

/** The parts of as-pect 8's TestNode the reporter uses. */
interface SpecNode {
  readonly type: number; // 0 test, 1 group
  readonly name: string;
  readonly ran: boolean;
  readonly pass: boolean;
  readonly message: string | null;
  readonly actual: Reflected | null;
  readonly expected: Reflected | null;
  readonly parent: SpecNode | null;
  readonly children: SpecNode[];
  readonly logs: Reflected[];
  readonly todos: string[];
  readonly deltaT: number;
}

/** The parts of as-pect 8's TestContext the reporter uses. */
interface SpecContext {
  readonly fileName: string;
  readonly wasm: Record<string, unknown> | null;
  readonly rootNode: SpecNode;
  readonly pass: boolean;
  readonly testCount: number;
  readonly testPassCount: number;
  readonly errors: { type: string; message: string; stackTrace: string }[];
  readonly warnings: { type: string; message: string; stackTrace: string }[];
}

interface Writable {
  write(text: string): unknown;
}

/** The spec line the module last started, or 0 without the transform. */
function currentSpecLine(exports: Record<string, unknown> | null): number {
  const value = exports?.[SPEC_LINE_GLOBAL];
  if (value instanceof WebAssembly.Global) return Number(value.value);
  return typeof value === "number" ? value : 0;
}

export class ProxyWasmSpecReporter {
  /**
   * Set by as-pect, and not used: its CombinationReporter (which wraps a configured reporter)
   * assigns stderr to `stdout` as well, so the report would land on stderr, after the summary.
   */
  stdout: Writable | null = null;
  stderr: Writable | null = null;

  constructor(private readonly out: Writable = process.stdout) {}

  /** The spec line each failed test stopped at. */
  private readonly lines = new WeakMap<SpecNode, number>();
  /** Actual/expected values already shown for a failure (as-pect may hand them on). */
  private readonly shown = new WeakSet<Reflected>();
  private readonly sources = new Map<string, string[]>();

  onStart(): void {}
  onGroupStart(): void {}
  onGroupFinish(): void {}
  onTestStart(): void {}
  onTestFinish(): void {}
  onTodo(): void {}
  onExit(): void {}

  /** as-pect calls this right after a node's callback ran: the spec line is still the failing one. */
  onEnter(ctx: SpecContext, node: SpecNode): void {
    if (node.type === 0) this.lines.set(node, currentSpecLine(ctx.wasm));
  }

  onFinish(ctx: SpecContext): void {
    const out = this.out;
    const todos = countTodos(ctx.rootNode);
    out.write(`${ctx.pass ? "✔" : "❌"} ${ctx.fileName} Pass: ${ctx.testPassCount} / ${ctx.testCount} Todo: ${todos} Time: ${ctx.rootNode.deltaT}ms\n`);
    this.reportNode(ctx, ctx.rootNode, []);
    for (const error of ctx.errors) {
      out.write(`  [Error] ${error.type}: ${error.message}\n`);
      if (error.stackTrace) out.write(`${indent(error.stackTrace, "    ")}\n`);
    }
    for (const warning of ctx.warnings) out.write(`  [Warning] ${warning.type}: ${warning.message}\n`);
  }

  private reportNode(ctx: SpecContext, node: SpecNode, path: string[]): void {
    for (const child of node.children) {
      if (!child.ran) continue;
      const childPath = [...path, child.name];
      if (child.type === 1) {
        this.reportLogs(child.logs);
        this.reportNode(ctx, child, childPath);
      } else if (!child.pass) {
        this.reportFailure(ctx, child, childPath);
      } else {
        this.reportLogs(child.logs);
      }
    }
  }

  private reportFailure(ctx: SpecContext, test: SpecNode, path: string[]): void {
    const out = this.out;
    out.write(`  ❌ ${path.join(" › ")}\n`);
    if (test.message) out.write(`     ${test.message}\n`);
    const fresh = (value: Reflected | null) => value !== null && !this.shown.has(value);
    if (fresh(test.actual) || fresh(test.expected)) {
      if (test.actual !== null) out.write(`     [Actual]  : ${test.actual.stringify({ indent: 2 }).trimStart()}\n`);
      if (test.expected !== null) out.write(`     [Expected]: ${test.expected.negated ? "Not " : ""}${test.expected.stringify({ indent: 2 }).trimStart()}\n`);
    }
    if (test.actual !== null) this.shown.add(test.actual);
    if (test.expected !== null) this.shown.add(test.expected);
    const line = this.lines.get(test) ?? 0;
    if (line > 0) {
      out.write(`     at ${ctx.fileName}:${line}\n`);
      const text = this.sourceLine(ctx.fileName, line);
      if (text !== null) out.write(`     ${line} | ${text}\n`);
    }
    this.reportLogs(test.logs);
  }

  private reportLogs(logs: Reflected[]): void {
    for (const log of logs) this.out.write(`     [Log]: ${log.stringify({ indent: 12 }).trimStart()}\n`);
  }

  private sourceLine(file: string, line: number): string | null {
    let lines = this.sources.get(file);
    if (lines === undefined) {
      try {
        lines = readFileSync(resolve(file), "utf8").split(/\r?\n/);
      } catch {
        lines = [];
      }
      this.sources.set(file, lines);
    }
    const text = lines[line - 1];
    return text === undefined ? null : text.trim();
  }
}

function countTodos(node: SpecNode): number {
  return node.todos.length + node.children.reduce((sum, child) => sum + countTodos(child), 0);
}

function indent(text: string, prefix: string): string {
  return text.split("\n").map((line) => prefix + line).join("\n");
}

/** as-pect imports a reporter module and uses its default export as the reporter. */
export default new ProxyWasmSpecReporter();
