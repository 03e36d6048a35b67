import { sig, words, type FuncSignature } from "./signature";
import { ABI_VERSIONS, type AbiVersion } from "./versions";

/**
 * What a known export is for:
 * - `start`: WASI start functions, run once after instantiation (§4.1 step 4);
 * - `allocator`: `malloc` / `proxy_on_memory_allocate` (§4.2);
 * - `proxy`: Proxy-Wasm callbacks (§1.4);
 * - `envoy`: Envoy-only callbacks (§5.18).
 */
export type CallbackKind = "start" | "allocator" | "proxy" | "envoy";

/** One export the host looks up by name; a same-named export with another type fails the load. */
export interface CallbackSpec {
  readonly name: string;
  readonly signature: FuncSignature;
  /** ABI versions for which the host looks it up under this signature. */
  readonly versions: readonly AbiVersion[];
  readonly kind: CallbackKind;
}

const ALL = ABI_VERSIONS;
const V010: readonly AbiVersion[] = ["0.1.0"];
const V02X: readonly AbiVersion[] = ["0.2.0", "0.2.1"];

const VOID = sig([], []);

function cb(name: string, signature: FuncSignature, kind: CallbackKind = "proxy", versions = ALL): CallbackSpec {
  return { name, signature, versions, kind };
}

/** `n` i32 parameters and no result. */
function voids(n: number): FuncSignature {
  return sig(Array(n).fill("i32"), []);
}

/** Every export cpp-host (plus Envoy) looks up, in the order of §1.4. */
export const CALLBACKS: readonly CallbackSpec[] = [
  cb("_initialize", VOID, "start"),
  cb("main", words(2), "start"),
  cb("__main_void", words(0), "start"),
  cb("_start", VOID, "start"),
  cb("malloc", words(1), "allocator"),
  cb("proxy_on_memory_allocate", words(1), "allocator"),
  cb("proxy_validate_configuration", words(2)),
  cb("proxy_on_vm_start", words(2)),
  cb("proxy_on_configure", words(2)),
  cb("proxy_on_tick", voids(1)),
  cb("proxy_on_context_create", voids(2)),
  cb("proxy_on_new_connection", words(1)),
  cb("proxy_on_downstream_data", words(3)),
  cb("proxy_on_upstream_data", words(3)),
  cb("proxy_on_downstream_connection_close", voids(2)),
  cb("proxy_on_upstream_connection_close", voids(2)),
  cb("proxy_on_request_headers", words(2), "proxy", V010),
  cb("proxy_on_request_headers", words(3), "proxy", V02X),
  cb("proxy_on_request_body", words(3)),
  cb("proxy_on_request_trailers", words(2)),
  cb("proxy_on_request_metadata", words(2)),
  cb("proxy_on_response_headers", words(2), "proxy", V010),
  cb("proxy_on_response_headers", words(3), "proxy", V02X),
  cb("proxy_on_response_body", words(3)),
  cb("proxy_on_response_trailers", words(2)),
  cb("proxy_on_response_metadata", words(2)),
  cb("proxy_on_http_call_response", voids(5)),
  cb("proxy_on_grpc_receive_initial_metadata", voids(3)),
  cb("proxy_on_grpc_receive", voids(3)),
  cb("proxy_on_grpc_receive_trailing_metadata", voids(3)),
  cb("proxy_on_grpc_close", voids(3)),
  cb("proxy_on_queue_ready", voids(2)),
  cb("proxy_on_foreign_function", voids(3), "proxy", V02X),
  cb("proxy_on_done", words(1)),
  cb("proxy_on_log", voids(1)),
  cb("proxy_on_delete", voids(1)),
  cb("envoy_on_resolve_dns", voids(3), "envoy"),
  cb("envoy_on_stats_update", voids(2), "envoy"),
];

const byVersion = new Map<AbiVersion, ReadonlyMap<string, CallbackSpec>>(
  ABI_VERSIONS.map((version) => [
    version,
    new Map(CALLBACKS.filter((spec) => spec.versions.includes(version)).map((spec) => [spec.name, spec])),
  ]),
);

/** The exports the host looks up for `version`, keyed by export name. */
export function callbacksFor(version: AbiVersion): ReadonlyMap<string, CallbackSpec> {
  return byVersion.get(version)!;
}

/** The lookup of export `name` under `version`, or `undefined` if the host ignores that name. */
export function findCallback(version: AbiVersion, name: string): CallbackSpec | undefined {
  return byVersion.get(version)!.get(name);
}

/** Allocator export names in the order cpp-host tries them (§4.2: `malloc` wins). */
export const ALLOCATOR_EXPORTS = ["malloc", "proxy_on_memory_allocate"] as const;
export type AllocatorExport = (typeof ALLOCATOR_EXPORTS)[number];
