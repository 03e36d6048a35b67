import { sig, words, type FuncSignature } from "./signature";
import { ABI_VERSIONS, type AbiVersion } from "./versions";
import { WASI_FUNCTIONS, WASI_MODULES } from "./wasi-functions";

/** Who provides an import: the Proxy-Wasm ABI, emscripten shims, an Envoy extension or WASI. */
export type HostImportOrigin = "proxy" | "emscripten" | "envoy" | "wasi";

/** One function the host registers for modules to import. */
export interface HostImportSpec {
  readonly module: string;
  readonly name: string;
  readonly signature: FuncSignature;
  /** ABI versions for which the host registers it; importing it under another version fails. */
  readonly versions: readonly AbiVersion[];
  readonly origin: HostImportOrigin;
}

const ALL = ABI_VERSIONS;
const V010: readonly AbiVersion[] = ["0.1.0"];
const V02X: readonly AbiVersion[] = ["0.2.0", "0.2.1"];
const V021: readonly AbiVersion[] = ["0.2.1"];

function proxy(name: string, signature: FuncSignature, versions = ALL): HostImportSpec {
  return { module: "env", name, signature, versions, origin: "proxy" };
}

/** `env.proxy_*` hostcalls, in the order of §1.3. */
const PROXY_IMPORTS: readonly HostImportSpec[] = [
  proxy("proxy_log", words(3)),
  proxy("proxy_get_status", words(3)),
  proxy("proxy_set_property", words(4)),
  proxy("proxy_get_property", words(4)),
  proxy("proxy_send_local_response", words(8)),
  proxy("proxy_get_shared_data", words(5)),
  proxy("proxy_set_shared_data", words(5)),
  proxy("proxy_register_shared_queue", words(3)),
  proxy("proxy_resolve_shared_queue", words(5)),
  proxy("proxy_dequeue_shared_queue", words(3)),
  proxy("proxy_enqueue_shared_queue", words(3)),
  proxy("proxy_get_header_map_value", words(5)),
  proxy("proxy_add_header_map_value", words(5)),
  proxy("proxy_replace_header_map_value", words(5)),
  proxy("proxy_remove_header_map_value", words(3)),
  proxy("proxy_get_header_map_pairs", words(3)),
  proxy("proxy_set_header_map_pairs", words(3)),
  proxy("proxy_get_header_map_size", words(2)),
  proxy("proxy_get_buffer_status", words(3)),
  proxy("proxy_get_buffer_bytes", words(5)),
  proxy("proxy_set_buffer_bytes", words(5)),
  proxy("proxy_http_call", words(10)),
  proxy("proxy_grpc_call", words(12)),
  proxy("proxy_grpc_stream", words(9)),
  proxy("proxy_grpc_send", words(4)),
  proxy("proxy_grpc_cancel", words(1)),
  proxy("proxy_grpc_close", words(1)),
  proxy("proxy_set_tick_period_milliseconds", words(1)),
  proxy("proxy_get_current_time_nanoseconds", words(1)),
  proxy("proxy_define_metric", words(4)),
  proxy("proxy_increment_metric", sig(["i32", "i64"], ["i32"])),
  proxy("proxy_record_metric", sig(["i32", "i64"], ["i32"])),
  proxy("proxy_get_metric", words(2)),
  proxy("proxy_set_effective_context", words(1)),
  proxy("proxy_done", words(0)),
  proxy("proxy_call_foreign_function", words(6)),
  proxy("proxy_get_configuration", words(2), V010),
  proxy("proxy_continue_request", words(0), V010),
  proxy("proxy_continue_response", words(0), V010),
  proxy("proxy_clear_route_cache", words(0), V010),
  proxy("proxy_continue_stream", words(1), V02X),
  proxy("proxy_close_stream", words(1), V02X),
  proxy("proxy_get_log_level", words(1), V021),
];

const OTHER_ENV_IMPORTS: readonly HostImportSpec[] = [
  { module: "env", name: "pthread_equal", signature: words(2), versions: ALL, origin: "emscripten" },
  {
    module: "env",
    name: "emscripten_notify_memory_growth",
    signature: sig(["i32"], []),
    versions: ALL,
    origin: "emscripten",
  },
  { module: "env", name: "envoy_resolve_dns", signature: words(3), versions: ALL, origin: "envoy" },
];

const WASI_IMPORTS: readonly HostImportSpec[] = WASI_MODULES.flatMap((module) =>
  Object.entries(WASI_FUNCTIONS).map(
    ([name, signature]): HostImportSpec => ({ module, name, signature, versions: ALL, origin: "wasi" }),
  ),
);

/** Every function import the host can register, across all ABI versions. */
export const HOST_IMPORTS: readonly HostImportSpec[] = [
  ...PROXY_IMPORTS,
  ...OTHER_ENV_IMPORTS,
  ...WASI_IMPORTS,
];

/** The key cpp-host uses for its import registry and in its messages: `module.name`. */
export function importKey(module: string, name: string): string {
  return `${module}.${name}`;
}

const byVersion = new Map<AbiVersion, ReadonlyMap<string, HostImportSpec>>(
  ABI_VERSIONS.map((version) => [
    version,
    new Map(
      HOST_IMPORTS.filter((spec) => spec.versions.includes(version)).map((spec) => [
        importKey(spec.module, spec.name),
        spec,
      ]),
    ),
  ]),
);

/** The imports registered for `version`, keyed by `module.name`. */
export function hostImportsFor(version: AbiVersion): ReadonlyMap<string, HostImportSpec> {
  return byVersion.get(version)!;
}

/**
 * The registration of `module.name` for `version`, or `undefined` when the host would not
 * provide it (a module importing it fails to load).
 */
export function findHostImport(
  version: AbiVersion,
  module: string,
  name: string,
): HostImportSpec | undefined {
  return byVersion.get(version)!.get(importKey(module, name));
}

/**
 * The registration of `module.name` under any version, for error hints ("this import exists
 * only in ABI 0.1.0"); `undefined` when no version registers it.
 */
export function findHostImportInAnyVersion(module: string, name: string): HostImportSpec | undefined {
  return HOST_IMPORTS.find((spec) => spec.module === module && spec.name === name);
}
