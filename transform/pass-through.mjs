// Part of the SDK's transform (run from proxy-wasm-exports.mjs): drops the code that lets streams
// pass through when their root makes no stream context (assembly/api/pass_through.ts: the id sets,
// the property reads and the warning) from modules in which every root always makes one.
//
// Decided from the declared types, which AssemblyScript enforces: a method declared to return
// `HttpContext` (or `TcpContext`) without `| null` cannot return null. RootContext is abstract, so
// only its extenders can be instantiated; if every extender the compiler resolved declares such a
// createHttpContext or createTcpContext (its own or inherited), no stream ever passes through.
// The bodies of the pass-through's entry points then become what that implies (below) before the
// optimiser runs, and the optimiser removes everything only they used. Any extender with only
// nullable factories (the defaults included) keeps the code. Runs in afterCompile, like the
// export pruning, and whatever PROXY_WASM_AS_EXPORT_ALL says (it is about exports only).

const ROOT_CLASS = "api/root_context/RootContext";
// The pass-through's ways in (assembly/api/pass_through.ts) and what each becomes: starting one
// cannot happen, no stream passes through, ending one has nothing to forget.
const PASS_THROUGH_ENTRIES = {
  "api/pass_through/passThrough": (module) => module.unreachable(),
  "api/pass_through/passesThrough": (module) => module.i32.const(0),
  "api/pass_through/endPassThrough": (module) => module.nop(),
};
const STREAM_FACTORIES = ["createHttpContext", "createTcpContext"];

/** True when `rootClass` (a resolved AssemblyScript Class) declares a stream factory that cannot return null. */
export function alwaysMakesStreamContext(rootClass) {
  return STREAM_FACTORIES.some((name) => {
    const method = rootClass.getMethod(name);
    return method !== null && !method.signature.returnType.isNullableReference;
  });
}

/**
 * Replaces the bodies of the SDK's pass-through entry points when every root class of `program`
 * always makes a stream context. `sdkPrefix` is the internal path of the SDK's
 * assembly/ folder. Returns true when it did.
 */
export function dropUnreachablePassThrough(module, binaryen, program, sdkPrefix) {
  const rootClass = program?.instancesByName?.get(`${sdkPrefix}/${ROOT_CLASS}`);
  if (rootClass === undefined) return false;
  for (const extender of rootClass.extenders ?? []) {
    if (!alwaysMakesStreamContext(extender)) return false;
  }
  for (const [path, body] of Object.entries(PASS_THROUGH_ENTRIES)) {
    const name = `${sdkPrefix}/${path}`;
    const entry = module.getFunction(name);
    if (entry === 0) continue;
    const { params, results } = binaryen.getFunctionInfo(entry);
    module.removeFunction(name);
    module.addFunction(name, params, results, [], body(module));
  }
  return true;
}
