// Part of the SDK's transform (run from proxy-wasm-exports.mjs): drops the code that lets streams
// pass through when their root makes no stream context (assembly/api/pass_through.ts: the id sets,
// the property reads and the warning) from modules in which every root always makes one; and the
// code that lets a stream pass when it meets a callback of the other stream kind
// (assembly/api/stream_kind_mismatch.ts) from modules in which that cannot happen.
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

const OTHER_KIND_ENTRY = "api/stream_kind_mismatch/passesAsOtherKind";
const HTTP_STREAM_EXPORTS = [
  "proxy_on_request_headers", "proxy_on_request_body", "proxy_on_request_trailers", "proxy_on_request_metadata",
  "proxy_on_response_headers", "proxy_on_response_body", "proxy_on_response_trailers", "proxy_on_response_metadata",
];
const TCP_STREAM_EXPORTS = [
  "proxy_on_new_connection", "proxy_on_downstream_data", "proxy_on_upstream_data",
  "proxy_on_downstream_connection_close", "proxy_on_upstream_connection_close",
];

/**
 * True when a stream context can meet a callback of the other stream kind: some root class
 * overrides createHttpContext (so HTTP contexts exist) and a TCP stream callback is exported, or
 * the other way round. A root that overrides neither factory makes no stream context at all;
 * without the exports, the host continues the stream itself (cpp-host skips a callback the module
 * does not export). `functionNames` are the compiled functions' internal names, `exported` the
 * callback exports the module keeps.
 */
export function streamsCanMeetOtherKind(functionNames, exported, sdkPrefix) {
  const defaults = `${sdkPrefix}/${ROOT_CLASS}#`;
  const overrides = (factory) =>
    functionNames.some((name) => name.endsWith(`#${factory}`) && !name.startsWith(defaults));
  const exports = (names) => names.some((name) => exported.has(name));
  return (overrides("createHttpContext") && exports(TCP_STREAM_EXPORTS)) || (overrides("createTcpContext") && exports(HTTP_STREAM_EXPORTS));
}

/**
 * Makes the SDK's check for a callback of the other stream kind answer false when
 * streamsCanMeetOtherKind says no stream can meet one, so the optimiser drops its code (a
 * mismatch the host would still send then stops the module as a broken contract). Returns true
 * when it did.
 */
export function dropUnreachableOtherKind(module, binaryen, functionNames, exported, sdkPrefix) {
  if (streamsCanMeetOtherKind(functionNames, exported, sdkPrefix)) return false;
  const name = `${sdkPrefix}/${OTHER_KIND_ENTRY}`;
  const entry = module.getFunction(name);
  if (entry === 0) return false;
  const { params, results } = binaryen.getFunctionInfo(entry);
  module.removeFunction(name);
  module.addFunction(name, params, results, [], module.i32.const(0));
  return true;
}
