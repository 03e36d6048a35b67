// AssemblyScript transform (listed in the SDK's asconfig.json): keeps only the Proxy-Wasm callback
// exports whose callback the filter implements.
//
// Why: `export * from "proxy-wasm-as/assembly/exports"` exports all 28 callbacks, and every
// export keeps its dispatcher and the SDK's default methods alive. cpp-host treats every callback
// as optional (proxy-wasm-abi.md §1.4) and a missing one behaves exactly as the SDK default would
// (vm_start/configure succeed, stream callbacks Continue, done is "done", the rest do nothing), so
// an export whose callback no class overrides is pure weight. Removing the exports in
// afterCompile, which asc runs before it optimises, lets the optimiser drop that code.
//
// What is decided from what: asc compiles only reachable code, so the module holds a function
// `<Class>#<method>` for each override of an SDK callback method that a live class declares, at
// any depth of subclassing. An override is any such function outside the SDK's four base classes
// (of any class: a same-named method elsewhere can only keep an export, never drop one).
//
// Opt-out (every callback stays exported): environment variable PROXY_WASM_AS_EXPORT_ALL=1, or
// `--use PROXY_WASM_AS_EXPORT_ALL=1` (asconfig: "options": {"use": ["PROXY_WASM_AS_EXPORT_ALL=1"]}).
// Modules that do not export the SDK's ABI marker (as-pect specs, other programs) are left alone.

import { dropUnreachableOtherKind, dropUnreachablePassThrough } from "./pass-through.mjs";
import { addConfigReaders, CONFIG_SCHEMA_FILE_SECTION, CONFIG_SCHEMA_FILE_SWITCH, CONFIG_SCHEMA_SECTION, DiagnosticCode, schemaForModule } from "./plugin-config.mjs";

/** The switch that keeps every callback export. */
export const EXPORT_ALL_SWITCH = "PROXY_WASM_AS_EXPORT_ALL";

const MARKER = "proxy_abi_version_0_2_1";

/** Exports the SDK always keeps: the host needs them, or the SDK does bookkeeping in them. */
export const ALWAYS_EXPORTED = [
  MARKER,
  "malloc",
  "proxy_on_memory_allocate",
  "proxy_on_context_create", // creates and registers every context
  "proxy_on_delete", // unregisters the context and forgets its callouts
];

const GRPC_CALLBACK_METHODS = ["onGrpcReceiveInitialMetadata", "onGrpcReceive", "onGrpcReceiveTrailingMetadata", "onGrpcClose"];

// Each optional callback export and the context methods whose override makes it needed.
const CALLBACK_METHODS = {
  proxy_on_vm_start: ["onVmStart"],
  proxy_on_configure: ["onConfigure"],
  proxy_on_tick: ["onTick"],
  proxy_on_queue_ready: ["onQueueReady"],
  proxy_on_foreign_function: ["onForeignFunction"],
  proxy_on_done: ["onDone"],
  proxy_on_log: ["onLog"],
  proxy_on_request_headers: ["onRequestHeaders"],
  proxy_on_request_body: ["onRequestBody"],
  proxy_on_request_trailers: ["onRequestTrailers"],
  proxy_on_request_metadata: ["onRequestMetadata"],
  proxy_on_response_headers: ["onResponseHeaders"],
  proxy_on_response_body: ["onResponseBody"],
  proxy_on_response_trailers: ["onResponseTrailers"],
  proxy_on_response_metadata: ["onResponseMetadata"],
  proxy_on_new_connection: ["onNewConnection"],
  proxy_on_downstream_data: ["onDownstreamData"],
  proxy_on_upstream_data: ["onUpstreamData"],
  proxy_on_downstream_connection_close: ["onDownstreamConnectionClose"],
  proxy_on_upstream_connection_close: ["onUpstreamConnectionClose"],
  proxy_on_http_call_response: ["onHttpCallResponse"],
  // The four gRPC exports go together: each answer can be the one that ends a stream, and the
  // SDK forgets the token only when it sees that answer.
  proxy_on_grpc_receive_initial_metadata: GRPC_CALLBACK_METHODS,
  proxy_on_grpc_receive: GRPC_CALLBACK_METHODS,
  proxy_on_grpc_receive_trailing_metadata: GRPC_CALLBACK_METHODS,
  proxy_on_grpc_close: GRPC_CALLBACK_METHODS,
  // Never called by Envoy; the SDK's version accepts everything, as a missing one does.
  proxy_validate_configuration: [],
};

// SDK functions whose presence means the filter can start callouts: the answers must then reach
// the SDK, which hands them to the caller or drops them and forgets the token.
const HTTP_CALL_STARTERS = ["api/http_call/httpCall"];
const GRPC_STARTERS = ["api/grpc/grpcCall", "api/grpc/grpcStream"];
const HTTP_CALL_EXPORTS = ["proxy_on_http_call_response"];
const GRPC_EXPORTS = [
  "proxy_on_grpc_receive_initial_metadata",
  "proxy_on_grpc_receive",
  "proxy_on_grpc_receive_trailing_metadata",
  "proxy_on_grpc_close",
];

// A function only the SDK's registry defines (relative to its assembly/ folder).
const SDK_FINGERPRINT = "api/registry/createContext";

// The SDK classes whose methods are the defaults, relative to the SDK's assembly/ folder.
const BASE_CLASSES = ["api/context/Context", "api/root_context/RootContext", "api/http_context/HttpContext", "api/tcp_context/TcpContext"];

/**
 * Which SDK callback exports a module needs, from the internal names of its compiled functions.
 * `sdkPrefix` is the internal path of the SDK's assembly/ folder (e.g.
 * `~lib/proxy-wasm-as/assembly`). Returns the names of the optional callback exports to keep;
 * the ALWAYS_EXPORTED ones are not included.
 */
export function neededCallbackExports(functionNames, sdkPrefix) {
  const baseClasses = new Set(BASE_CLASSES.map((name) => `${sdkPrefix}/${name}`));
  const functions = new Set(functionNames);
  const overridden = new Set();
  for (const name of functionNames) {
    const hash = name.lastIndexOf("#");
    if (hash < 0) continue;
    const method = name.slice(hash + 1);
    // `@override`/`@virtual` stubs and accessors (`get:x`) are not declarations of the method.
    if (method.includes("@") || method.includes(":")) continue;
    if (!baseClasses.has(name.slice(0, hash))) overridden.add(method);
  }
  const starts = (paths) => paths.some((path) => functions.has(`${sdkPrefix}/${path}`));
  const needed = new Set();
  for (const [exportName, methods] of Object.entries(CALLBACK_METHODS)) {
    if (methods.some((method) => overridden.has(method))) needed.add(exportName);
  }
  if (starts(HTTP_CALL_STARTERS)) HTTP_CALL_EXPORTS.forEach((name) => needed.add(name));
  if (starts(GRPC_STARTERS)) GRPC_EXPORTS.forEach((name) => needed.add(name));
  return Object.keys(CALLBACK_METHODS).filter((name) => needed.has(name));
}

/** True when the switch asks for every callback export (environment or `--use` alias). */
export function exportAllRequested(environment, globalAliases) {
  return switchRequested(EXPORT_ALL_SWITCH, environment, globalAliases);
}

// A switch given as an environment variable or a `--use NAME=1` alias.
function switchRequested(name, environment, globalAliases) {
  const enabled = (value) => value !== undefined && value !== null && value !== "" && value !== "0" && value !== "false";
  return enabled(environment[name]) || enabled(globalAliases?.get?.(name));
}

// asc's optimiser inlines a function with one caller only up to 80 bytes at shrink level 2
// (assemblyscript's Module#optimize), where Binaryen's own -Oz inlines it at any size: the call,
// the function's entry and its parameters then go. asc runs the `runPasses` list after every
// round of its optimiser, through the module object this transform is given, so that is where the
// SDK adds one inlining round with the limit lifted. add_header: 78 bytes
// smaller, and fewer calls on every callback. If a later asc stops calling runPasses there, the
// module only grows back (tests/sdk-exports.test.ts guards add_header's size).
function inlineSingleCallers(module, binaryen) {
  const runPasses = module.runPasses.bind(module);
  let inlined = false;
  module.runPasses = (passes, ...rest) => {
    // Once, after the first optimiser round: repeated in asc's converge rounds it made some
    // modules larger again ("Last converge was suboptimal").
    if (inlined) return runPasses(passes, ...rest);
    inlined = true;
    const limit = binaryen.getOneCallerInlineMaxSize();
    binaryen.setOneCallerInlineMaxSize(-1);
    try {
      runPasses([...passes, "inlining-optimizing"], ...rest);
    } finally {
      binaryen.setOneCallerInlineMaxSize(limit);
    }
  };
}

// The minimal runtime's count of managed bytes (`total` in ~lib/rt/tcms), read by the SDK's
// collection trigger through runtime/collect.ts' managedBytes(), whose placeholder body is
// replaced here with a read of that global (before the optimiser, which then inlines it). Other
// runtimes keep the placeholder, which collects after every outermost callback: the as-pect
// specs build with the incremental runtime, and a full collection after each callback there
// finds an object the SDK forgot to keep alive at the first callback after the mistake.
const MANAGED_BYTES_SUFFIX = "/runtime/collect/managedBytes";
const RUNTIME_TOTALS = ["~lib/rt/tcms/total"];

function readRuntimeTotal(module, binaryen) {
  let target = null;
  for (let i = 0, n = module.getNumFunctions(); i < n; i++) {
    const name = binaryen.getFunctionInfo(module.getFunctionByIndex(i)).name;
    if (name.endsWith(MANAGED_BYTES_SUFFIX)) target = name;
  }
  if (target === null) return;
  const total = RUNTIME_TOTALS.find((name) => module.getGlobal(name) !== 0);
  if (total === undefined) return;
  module.removeFunction(target);
  module.addFunction(target, binaryen.none, binaryen.i32, [], module.global.get(total, binaryen.i32));
}

// The SDK's allocator (runtime/allocator.ts) in place of TLSF: the runtime's `__alloc`,
// `__realloc` and `__free` (~lib/rt/tlsf), which `__new`, the collectors and `heap.*` call, get
// bodies that call the SDK's functions, before the optimiser, which then inlines them and drops
// TLSF's code (add_header: about 1 KB smaller; bench shape f2_headers: about 2k instructions per
// request less). The SDK's exports file exports its three functions under ANCHOR names only so
// that asc compiles them; they are removed here in every case. A module without TLSF (the stub
// runtime) or without the SDK's allocator keeps what it has.
const ALLOCATOR_FILE = "/runtime/allocator/";
const ANCHOR_PREFIX = "__proxy_wasm_as_block_";
const RUNTIME_ALLOCATOR = [
  { runtime: "~lib/rt/tlsf/__alloc", sdk: "blockAlloc" },
  { runtime: "~lib/rt/tlsf/__realloc", sdk: "blockRealloc" },
  { runtime: "~lib/rt/tlsf/__free", sdk: "blockFree" },
];

export function routeRuntimeAllocator(module, binaryen) {
  for (let i = module.getNumExports() - 1; i >= 0; i--) {
    const name = binaryen.getExportInfo(module.getExportByIndex(i)).name;
    if (name.startsWith(ANCHOR_PREFIX)) module.removeExport(name);
  }
  const sdkNames = new Map();
  for (let i = 0, n = module.getNumFunctions(); i < n; i++) {
    const name = binaryen.getFunctionInfo(module.getFunctionByIndex(i)).name;
    const at = name.lastIndexOf(ALLOCATOR_FILE);
    if (at >= 0) sdkNames.set(name.slice(at + ALLOCATOR_FILE.length), name);
  }
  const routes = RUNTIME_ALLOCATOR.filter(({ runtime }) => module.getFunction(runtime) !== 0);
  if (!routes.some(({ runtime }) => runtime.endsWith("__alloc")) || !routes.every(({ sdk }) => sdkNames.has(sdk))) return false;
  for (const { runtime, sdk } of routes) {
    const original = binaryen.getFunctionInfo(module.getFunction(runtime));
    module.removeFunction(runtime);
    const args = binaryen.expandType(original.params).map((type, index) => module.local.get(index, type));
    module.addFunction(runtime, original.params, original.results, [], module.call(sdkNames.get(sdk), args, original.results));
  }
  return true;
}

export default class ProxyWasmExports {
  afterParse(parser) {
    // Typed plugin configuration (plugin-config.mjs): readers for the @pluginConfig classes.
    this.configDeclarations = addConfigReaders(parser, (range, message) => parser.error(DiagnosticCode.User_defined_0, range, message));
  }

  afterCompile(module) {
    const binaryen = this.binaryen;
    // Only where asc optimises and keeps no debug information: a debug build keeps each
    // function its own frame in backtraces (docs/debugging.md).
    const options = this.program?.options;
    if (options && (options.optimizeLevelHint > 0 || options.shrinkLevelHint > 0) && !options.debugInfo) {
      inlineSingleCallers(module, binaryen);
    }
    readRuntimeTotal(module, binaryen);
    routeRuntimeAllocator(module, binaryen);
    this.addConfigSchema(module);
    const exports = [];
    for (let i = 0, n = module.getNumExports(); i < n; i++) {
      const info = binaryen.getExportInfo(module.getExportByIndex(i));
      if (info.kind === binaryen.ExternalFunction) exports.push(info);
    }
    const marker = exports.find((info) => info.name === MARKER);
    const markerSuffix = `/exports/${MARKER}`;
    // Not a module built on the SDK's exports file: nothing to decide.
    if (marker === undefined || !marker.value.endsWith(markerSuffix)) return;
    const sdkPrefix = marker.value.slice(0, -markerSuffix.length);
    const functionNames = [];
    for (let i = 0, n = module.getNumFunctions(); i < n; i++) {
      functionNames.push(binaryen.getFunctionInfo(module.getFunctionByIndex(i)).name);
    }
    // A filter's own file could also be called exports.ts: only the SDK has this registry.
    if (!functionNames.includes(`${sdkPrefix}/${SDK_FINGERPRINT}`)) return;
    dropUnreachablePassThrough(module, binaryen, this.program, sdkPrefix);
    const exportAll = exportAllRequested(process.env, this.program?.options?.globalAliases);
    const keep = new Set(exportAll ? Object.keys(CALLBACK_METHODS) : neededCallbackExports(functionNames, sdkPrefix));
    dropUnreachableOtherKind(module, binaryen, functionNames, keep, sdkPrefix);
    if (exportAll) return;
    for (const info of exports) {
      // Only the SDK's own callback exports: a filter's hand-written export stays.
      if (!(info.name in CALLBACK_METHODS) || keep.has(info.name)) continue;
      if (info.value !== `${sdkPrefix}/exports/${info.name}`) continue;
      module.removeExport(info.name);
    }
  }

  // The configuration's JSON Schema as the custom section the Node side reads (before the
  // optimiser runs, while parseConfig<T> still has its own function name).
  addConfigSchema(module) {
    if (!this.configDeclarations || this.configDeclarations.size === 0) return;
    const binaryen = this.binaryen;
    const functionNames = [];
    for (let i = 0, n = module.getNumFunctions(); i < n; i++) {
      functionNames.push(binaryen.getFunctionInfo(module.getFunctionByIndex(i)).name);
    }
    const schema = schemaForModule(this.configDeclarations, functionNames, (message) => this.stderr.write(`WARNING ${message}\n`));
    if (schema === null) return;
    const toFile = switchRequested(CONFIG_SCHEMA_FILE_SWITCH, process.env, this.program?.options?.globalAliases);
    module.addCustomSection(toFile ? CONFIG_SCHEMA_FILE_SECTION : CONFIG_SCHEMA_SECTION, new TextEncoder().encode(schema));
  }
}
