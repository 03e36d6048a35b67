import type { ModuleProblem } from "./module-problem";

/**
 * Thrown when a module would not load in Envoy. `message` is the first problem's message
 * (what cpp-host would log); `problems` lists all of them, and `report` formats them with hints.
 */
export class ModuleLoadError extends Error {
  override readonly name = "ModuleLoadError";

  constructor(readonly problems: readonly ModuleProblem[]) {
    super(problems[0]?.message ?? "Failed to load Wasm module");
  }

  /** One line per problem, each followed by its hint (indented) when there is one. */
  get report(): string {
    return this.problems
      .map((problem) => (problem.hint ? `${problem.message}\n  hint: ${problem.hint}` : problem.message))
      .join("\n");
  }
}
