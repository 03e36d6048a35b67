/** Why a module cannot be loaded, one code per cpp-host load failure. */
export type ModuleProblemCode =
  | "corrupt-module"
  | "missing-abi-version"
  | "bytecode-rejected"
  | "missing-import"
  | "import-type-mismatch"
  | "global-import"
  | "bad-export-signature"
  | "missing-allocator";

/** One reason a module would fail to load in Envoy. */
export interface ModuleProblem {
  readonly code: ModuleProblemCode;
  /** cpp-host's wording, e.g. "Failed to load Wasm module due to a missing import: env.abort". */
  readonly message: string;
  /** What to do about it, when we know (e.g. the asc flag that removes `env.abort`). */
  readonly hint?: string;
}
