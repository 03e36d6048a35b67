/** A wasm value type as it appears in function signatures. */
export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref";

/** A wasm function type. */
export interface FuncSignature {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

/** Shorthand for building table entries: `sig(["i32","i32"], ["i32"])`. */
export function sig(params: readonly ValType[], results: readonly ValType[] = []): FuncSignature {
  return { params, results };
}

/** `n` i32 parameters returning one i32: the shape of almost every hostcall. */
export function words(n: number): FuncSignature {
  return sig(Array<ValType>(n).fill("i32"), ["i32"]);
}

/** True when both signatures have exactly the same params and results. */
export function sameSignature(a: FuncSignature, b: FuncSignature): boolean {
  return sameTypes(a.params, b.params) && sameTypes(a.results, b.results);
}

function sameTypes(a: readonly ValType[], b: readonly ValType[]): boolean {
  return a.length === b.length && a.every((type, i) => type === b[i]);
}

/**
 * Formats like cpp-host's V8 wrapper does in its load errors: types separated by spaces,
 * "void" for an empty list, e.g. `i32 i32 -> i32` or `void -> void`.
 */
export function formatSignature(signature: FuncSignature): string {
  return `${formatTypes(signature.params)} -> ${formatTypes(signature.results)}`;
}

function formatTypes(types: readonly ValType[]): string {
  return types.length === 0 ? "void" : types.join(" ");
}
