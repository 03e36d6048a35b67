/**
 * The fuzz filter: a Proxy-Wasm 0.2.1 module, generated as WAT, that makes seeded random hostcalls
 * from every callback it exports and returns random callback statuses.
 *
 * It never traps by itself: it reads and writes only its own memory, in bounds (every copy is
 * range-checked, because the host may have written anywhere the filter pointed it to), and it
 * has no `unreachable`, no division and no recursion. So a failed VM or a JS error out of the
 * host while it runs is the host's fault, never the filter's.
 *
 * Configuration (plugin configuration, read in `proxy_on_configure`): a decimal seed, then any of
 *   `h`     hostile allocator: `malloc` sometimes returns 0, pointers past the end of memory,
 *           pointers that overlap the filter's own data or the previous block (§4.2: the host
 *           must answer those with InvalidMemoryAccess, never crash or fail the VM);
 *   `f`     fair statuses: stream callbacks return only Continue (0, or 2 for headers), so a
 *           stream that never ends is the host's fault (used with real clients, where a filter
 *           that stops forever would legitimately hold a request as Envoy does);
 *   `c<n>`  about n hostcalls per callback (default 8).
 * e.g. `12345`, `12345hc16`, `7f`.
 *
 * Counters: the exported global `fuzz_hostcalls` (i64) counts the random hostcalls; at the end of
 * every callback the filter records it in its gauge `fuzz_hostcalls`, so a driver that only sees
 * the proxy's /stats can count too.
 */
import { HOST_IMPORTS } from "../../src/host/abi/host-imports";
import { initWat, watToWasm } from "../helpers/wat";

/** How the filter builds each argument of a hostcall. */
type ArgKind =
  | "int" // any u32 the filter picks: 0, 1, small, HTTP statuses, 2^31, 2^32-1, random
  | "enum" // map / buffer / stream type or log level: mostly 0..11, sometimes huge
  | "tok" // token or id: small, one the host wrote, the current context id, random
  | "out" // an out-pointer: in bounds, unaligned, at the end of memory, past it, 0, 2^32-1
  | "buf" // a (pointer, size) pair: dictionary words, hostile bytes, empty, overlong, out of range
  | "name" // a buf that is, half the time, a name the host knows: cluster, property path, queue, foreign function
  | "pairs" // a (pointer, size) pair of serialized header pairs: valid, truncated, lying about counts
  | "i64"; // a metric value: 0, 1, -1, random, i64 max / min

/** Every hostcall the filter makes, with how each argument is built (2 wasm params for buf/pairs). */
export const FUZZ_HOSTCALLS: readonly (readonly [module: string, name: string, args: readonly ArgKind[]])[] = [
  ["env", "proxy_log", ["enum", "buf"]],
  ["env", "proxy_get_log_level", ["out"]],
  ["env", "proxy_get_status", ["out", "out", "out"]],
  ["env", "proxy_set_property", ["name", "buf"]],
  ["env", "proxy_get_property", ["name", "out", "out"]],
  ["env", "proxy_send_local_response", ["int", "buf", "buf", "pairs", "int"]],
  ["env", "proxy_get_shared_data", ["name", "out", "out", "out"]],
  ["env", "proxy_set_shared_data", ["name", "buf", "int"]],
  ["env", "proxy_register_shared_queue", ["name", "out"]],
  ["env", "proxy_resolve_shared_queue", ["buf", "name", "out"]],
  ["env", "proxy_dequeue_shared_queue", ["tok", "out", "out"]],
  ["env", "proxy_enqueue_shared_queue", ["tok", "buf"]],
  ["env", "proxy_get_header_map_value", ["enum", "buf", "out", "out"]],
  ["env", "proxy_add_header_map_value", ["enum", "buf", "buf"]],
  ["env", "proxy_replace_header_map_value", ["enum", "buf", "buf"]],
  ["env", "proxy_remove_header_map_value", ["enum", "buf"]],
  ["env", "proxy_get_header_map_pairs", ["enum", "out", "out"]],
  ["env", "proxy_set_header_map_pairs", ["enum", "pairs"]],
  ["env", "proxy_get_header_map_size", ["enum", "out"]],
  ["env", "proxy_get_buffer_status", ["enum", "out", "out"]],
  ["env", "proxy_get_buffer_bytes", ["enum", "int", "int", "out", "out"]],
  ["env", "proxy_set_buffer_bytes", ["enum", "int", "int", "buf"]],
  ["env", "proxy_http_call", ["name", "pairs", "buf", "pairs", "int", "out"]],
  ["env", "proxy_grpc_call", ["name", "name", "name", "pairs", "buf", "int", "out"]],
  ["env", "proxy_grpc_stream", ["name", "name", "name", "pairs", "out"]],
  ["env", "proxy_grpc_send", ["tok", "buf", "int"]],
  ["env", "proxy_grpc_cancel", ["tok"]],
  ["env", "proxy_grpc_close", ["tok"]],
  ["env", "proxy_set_tick_period_milliseconds", ["int"]],
  ["env", "proxy_get_current_time_nanoseconds", ["out"]],
  ["env", "proxy_define_metric", ["enum", "name", "out"]],
  ["env", "proxy_increment_metric", ["tok", "i64"]],
  ["env", "proxy_record_metric", ["tok", "i64"]],
  ["env", "proxy_get_metric", ["tok", "out"]],
  ["env", "proxy_set_effective_context", ["tok"]],
  ["env", "proxy_done", []],
  ["env", "proxy_call_foreign_function", ["name", "buf", "out", "out"]],
  ["env", "proxy_continue_stream", ["enum"]],
  ["env", "proxy_close_stream", ["enum"]],
  ["wasi_snapshot_preview1", "fd_write", ["int", "out", "int", "out"]],
  ["wasi_snapshot_preview1", "clock_time_get", ["enum", "i64", "out"]],
  ["wasi_snapshot_preview1", "random_get", ["out", "int"]],
  ["wasi_snapshot_preview1", "environ_sizes_get", ["out", "out"]],
  ["wasi_snapshot_preview1", "environ_get", ["out", "out"]],
  ["wasi_snapshot_preview1", "args_sizes_get", ["out", "out"]],
  ["wasi_snapshot_preview1", "fd_fdstat_get", ["int", "out"]],
];

/** The callbacks the filter exports: name, i32 parameter count, whether it returns a status. */
type CallbackReturn = "status-headers" | "status-body" | "status-trailers" | "status-tcp" | "one" | "done" | "void";
const CALLBACKS: readonly (readonly [name: string, params: number, returns: CallbackReturn])[] = [
  ["proxy_on_vm_start", 2, "one"],
  ["proxy_validate_configuration", 2, "one"],
  ["proxy_on_tick", 1, "void"],
  ["proxy_on_context_create", 2, "void"],
  ["proxy_on_new_connection", 1, "status-tcp"],
  ["proxy_on_downstream_data", 3, "status-tcp"],
  ["proxy_on_upstream_data", 3, "status-tcp"],
  ["proxy_on_downstream_connection_close", 2, "void"],
  ["proxy_on_upstream_connection_close", 2, "void"],
  ["proxy_on_request_headers", 3, "status-headers"],
  ["proxy_on_request_body", 3, "status-body"],
  ["proxy_on_request_trailers", 2, "status-trailers"],
  ["proxy_on_request_metadata", 2, "status-trailers"],
  ["proxy_on_response_headers", 3, "status-headers"],
  ["proxy_on_response_body", 3, "status-body"],
  ["proxy_on_response_trailers", 2, "status-trailers"],
  ["proxy_on_response_metadata", 2, "status-trailers"],
  ["proxy_on_http_call_response", 5, "void"],
  ["proxy_on_grpc_receive_initial_metadata", 3, "void"],
  ["proxy_on_grpc_receive", 3, "void"],
  ["proxy_on_grpc_receive_trailing_metadata", 3, "void"],
  ["proxy_on_grpc_close", 3, "void"],
  ["proxy_on_queue_ready", 2, "void"],
  ["proxy_on_foreign_function", 3, "void"],
  ["proxy_on_done", 1, "done"],
  ["proxy_on_log", 1, "void"],
  ["proxy_on_delete", 1, "void"],
];

// Memory layout (initial memory 2 pages = 128 KiB; the allocator may grow it to 256 pages).
const ALPHA = 960; // 64 bytes of hostile and ordinary header bytes
const DICT_TABLE = 1024; // (offset, length) u32 pairs, one per dictionary word
const DICT = 2048; // dictionary words, up to 8191
const OUT = 8192; // 256 out-slots the host writes results into
const CONFIG_SLOTS = 9216; // (pointer, size) of the configuration read in on_configure
const PAYLOAD = 12288; // 4 KiB of random bytes, rescrambled in part on every callback
const PAYLOAD_SIZE = 4096;
const PAIRS = 16384; // serialized header pairs built per hostcall: four 4 KiB slots
const HEAP = 32768; // the allocator's bump heap, to the end of memory
const GAUGE_NAME = DICT - 16; // "fuzz_hostcalls", after the dictionary table

/** Bytes the payload is drawn from: CR, LF, NUL, SP, HTAB, colon, DEL, invalid UTF-8 lead/continuation bytes, and ordinary ones. */
const ALPHABET = [0x0d, 0x0a, 0x00, 0x20, 0x3a, 0x09, 0x7f, 0x80, 0xc0, 0xc1, 0xfe, 0xff, 0xe2, 0x82, 0xed, 0xa0, ...Buffer.from("aAzZ09-_./%=;,\"'<>?#&~@!$()[]{}|\\^`+*aeiouxyz-_")].slice(0, 64);

const text = (s: string): number[] => [...Buffer.from(s, "latin1")];
/**
 * Words the filter passes as names, values, clusters, property paths and function names, so that
 * random calls also reach the host's success paths (a known cluster, a real property, a
 * registered foreign function) and its header checks (pseudo-headers, hop-by-hop names).
 */
const HEADER_WORDS: number[][] = [
  ":path", ":method", ":authority", ":scheme", ":status", "host", "content-length", "transfer-encoding",
  "connection", "te", "upgrade", "keep-alive", "x-fuzz", "grpc-status", "grpc-message", "content-type",
  "Content-Length", "cookie", "x-forwarded-for", "x-envoy-original-path", ":protocol",
].map(text);
/** Header values, hostile and ordinary. */
const VALUE_WORDS: number[][] = [
  "GET", "POST", "CONNECT", "HEAD", "/", "/a b", "*", "http://x/", "200", "204", "304", "101", "100", "999", "0", "-1",
  "18446744073709551616", "chunked", "gzip, chunked", "close", "application/grpc", "127.0.0.1:1", "GE T",
  "a\r\nb: c", "v\u0000v", "\u00ff\u00fe\u00c0", "x y", "x:y", "",
].map(text);
/** Names the host knows (clusters, property paths, foreign functions, queues, metrics, gRPC names), after the header words. */
const NAMES: number[][] = [
  "callout", "upstream", "grpc", "default", "nope", "echo",
  "request\u0000path", "request\u0000headers\u0000:path", "request\u0000method", "request\u0000time",
  "request\u0000duration", "request\u0000size", "source\u0000address", "source\u0000port", "destination\u0000address",
  "plugin_name", "plugin_root_id", "plugin_vm_id", "node\u0000id", "node\u0000metadata", "xds\u0000cluster_name",
  "xds\u0000route_name", "response\u0000code", "response\u0000code_details", "response\u0000headers",
  "response\u0000size", "connection\u0000mtls", "connection\u0000id", "upstream\u0000address", "filter_state",
  "wasm_state\u0000fuzz", "\u0000", "request\u0000", "listener_direction", "cluster_name", "route_name",
  "compress", "uncompress", "clear_route_cache", "set_envoy_filter_state", "declare_property",
  "q", "queue", "fuzz_counter", "fuzz.hist", "a.b.c", "grpc.health.v1.Health", "Check", "Watch",
].map(text);
const DICTIONARY = [...HEADER_WORDS, ...VALUE_WORDS, ...NAMES];
const NAME_START = HEADER_WORDS.length + VALUE_WORDS.length;

const hex = (bytes: number[]): string => bytes.map((b) => `\\${b.toString(16).padStart(2, "0")}`).join("");
const u32le = (n: number): number[] => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];

function dataSegments(): string {
  const table: number[] = [];
  const words: number[] = [];
  for (const word of DICTIONARY) {
    table.push(...u32le(DICT + words.length), ...u32le(word.length));
    words.push(...word);
  }
  if (DICT + words.length > OUT || table.length > GAUGE_NAME - DICT_TABLE) throw new Error("fuzz filter: dictionary too large");
  return [
    `(data (i32.const ${ALPHA}) "${hex(ALPHABET)}")`,
    `(data (i32.const ${DICT_TABLE}) "${hex(table)}")`,
    `(data (i32.const ${DICT}) "${hex(words)}")`,
  ].join("\n  ");
}

/** The import declarations, checked against the host's own table so a signature drift fails loudly. */
function imports(): string {
  return FUZZ_HOSTCALLS.map(([module, name, args], index) => {
    const params: string[] = [];
    for (const kind of args) {
      if (kind === "buf" || kind === "name" || kind === "pairs") params.push("i32", "i32");
      else params.push(kind === "i64" ? "i64" : "i32");
    }
    const spec = HOST_IMPORTS.find((s) => s.module === module && s.name === name && s.versions.includes("0.2.1"));
    if (spec === undefined) throw new Error(`fuzz filter: ${module}.${name} is not a 0.2.1 import`);
    if (spec.signature.params.join(",") !== params.join(",")) {
      throw new Error(`fuzz filter: ${name} takes (${spec.signature.params.join(", ")}), the filter builds (${params.join(", ")})`);
    }
    return `(import "${module}" "${name}" (func $h${index} (param ${params.join(" ")}) (result i32)))`;
  }).join("\n  ");
}

function argument(kind: ArgKind): string {
  switch (kind) {
    case "buf":
      return "(call $buf) (global.get $len)";
    case "name":
      return "(call $name) (global.get $len)";
    case "pairs":
      return "(call $pairs) (global.get $len)";
    default:
      return `(call $${kind === "i64" ? "int64" : kind})`;
  }
}

/** `$hostcall`: one random hostcall through a br_table over every import. */
function dispatcher(): string {
  const n = FUZZ_HOSTCALLS.length;
  let body = `(br_table ${FUZZ_HOSTCALLS.map((_, i) => `$c${i}`).join(" ")} (local.get $k))`;
  for (let i = 0; i < n; i++) {
    const call = `(global.set $result (call $h${i} ${FUZZ_HOSTCALLS[i][2].map(argument).join(" ")}))`;
    body = `(block $c${i} ${body})\n      ${call}\n      (br $exit)`;
  }
  return `
  (func $hostcall (local $k i32)
    (local.set $k (call $below (i32.const ${n})))
    (global.set $sane (call $below (i32.const 2)))
    (global.set $calls (i64.add (global.get $calls) (i64.const 1)))
    (block $exit
      ${body}))`;
}

function callbackExports(): string {
  return CALLBACKS.map(([name, params, returns], id) => {
    const paramList = params > 0 ? `(param ${Array(params).fill("i32").join(" ")})` : "";
    const result = returns === "void" ? "" : "(result i32)";
    const arg = (i: number) => (i < params ? `(local.get ${i})` : "(i32.const 0)");
    let tail: string;
    switch (returns) {
      case "void":
        tail = "";
        break;
      case "one":
        tail = "(i32.const 1)";
        break;
      case "done":
        tail = "(call $below (i32.const 2))";
        break;
      default:
        tail = `(call $status (i32.const ${returns === "status-headers" ? 1 : 0}))`;
    }
    return `
  (func (export "${name}") ${paramList} ${result}
    (call $enter (i32.const ${id}) ${arg(0)} ${arg(1)} ${arg(2)})
    (call $storm)
    (call $leave)
    ${tail})`;
  }).join("");
}

/** The WAT text of the fuzz filter. */
export function fuzzFilterWat(): string {
  return `(module
  ${imports()}
  (memory (export "memory") 2 256)
  ${dataSegments()}
  (global $rng (mut i32) (i32.const 0x2545f491))
  (global $calls (export "fuzz_hostcalls") (mut i64) (i64.const 0))
  (global $result (mut i32) (i32.const 0))
  (global $len (mut i32) (i32.const 0))
  (global $heap (mut i32) (i32.const ${HEAP}))
  (global $last_block (mut i32) (i32.const ${HEAP}))
  (global $per_callback (mut i32) (i32.const 8))
  (global $hostile (mut i32) (i32.const 0))
  (global $fair (mut i32) (i32.const 0))
  (global $scrambled (mut i32) (i32.const 0))
  (global $ctx (mut i32) (i32.const 0))
  (global $arg1 (mut i32) (i32.const 0))
  (global $arg2 (mut i32) (i32.const 0))
  (global $gauge (mut i32) (i32.const 0))
  (global $depth (mut i32) (i32.const 0))
  ;; Half of the hostcalls are well-formed (pointers in bounds, pairs valid, names known) so the
  ;; host's success paths run too; the other half draw every argument from the whole hostile range.
  (global $sane (mut i32) (i32.const 0))
  (global $pairs_slot (mut i32) (i32.const 0))

  (func (export "proxy_abi_version_0_2_1"))

  ;; xorshift32
  (func $rand (result i32) (local $x i32)
    (local.set $x (global.get $rng))
    (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
    (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
    (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
    (global.set $rng (local.get $x))
    (local.get $x))

  ;; A number in [0, n); 0 when n is 0 (no division by zero, ever).
  (func $below (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.rem_u (call $rand) (local.get $n)))))

  (func $memsize (result i32) (i32.shl (memory.size) (i32.const 16)))

  ;; True when [p, p + n) lies inside memory (no overflow: compares n with the room left).
  (func $inside (param $p i32) (param $n i32) (result i32)
    (if (result i32) (i32.gt_u (local.get $p) (call $memsize))
      (then (i32.const 0))
      (else (i32.le_u (local.get $n) (i32.sub (call $memsize) (local.get $p))))))

  ;; Copies n bytes when both ranges are inside memory; returns how many it copied.
  (func $copy (param $dst i32) (param $src i32) (param $n i32) (result i32)
    (if (i32.eqz (i32.and (call $inside (local.get $dst) (local.get $n)) (call $inside (local.get $src) (local.get $n))))
      (then (return (i32.const 0))))
    (memory.copy (local.get $dst) (local.get $src) (local.get $n))
    (local.get $n))

  ;; Rewrites a random window of the payload with hostile and ordinary bytes (all of it the first time).
  (func $scramble (local $i i32) (local $start i32) (local $n i32)
    (if (global.get $scrambled)
      (then
        (local.set $start (call $below (i32.const ${PAYLOAD_SIZE - 256})))
        (local.set $n (i32.const 256)))
      (else
        (global.set $scrambled (i32.const 1))
        (local.set $start (i32.const 0))
        (local.set $n (i32.const ${PAYLOAD_SIZE}))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8
          (i32.add (i32.const ${PAYLOAD}) (i32.add (local.get $start) (local.get $i)))
          (i32.load8_u (i32.add (i32.const ${ALPHA}) (call $below (i32.const 64)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  (func $enter (param $id i32) (param $ctx i32) (param $a1 i32) (param $a2 i32)
    (global.set $depth (i32.add (global.get $depth) (i32.const 1)))
    (global.set $ctx (local.get $ctx))
    (global.set $arg1 (local.get $a1))
    (global.set $arg2 (local.get $a2))
    (global.set $rng (i32.xor (global.get $rng)
      (i32.add (i32.mul (local.get $ctx) (i32.const 0x9e3779b1)) (i32.mul (local.get $id) (i32.const 0x85ebca77)))))
    (if (i32.eqz (global.get $rng)) (then (global.set $rng (i32.const 0x2545f491))))
    (call $scramble))

  ;; Records the hostcall count in the gauge (when defined), for drivers that only see /stats.
  (func $leave
    (global.set $depth (i32.sub (global.get $depth) (i32.const 1)))
    (if (global.get $gauge)
      (then (drop (call $record_gauge (global.get $gauge) (global.get $calls))))))

  (func $storm (local $n i32)
    (local.set $n (call $below (i32.add (i32.shl (global.get $per_callback) (i32.const 1)) (i32.const 1))))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (call $hostcall)
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next))))

  ;; A callback status. Fair: Continue only (0, or 2 = ContinueAndEndStream for headers). Else
  ;; mostly Continue, otherwise every defined status and values past them.
  (func $status (param $headers i32) (result i32) (local $k i32)
    (if (global.get $fair)
      (then (return (if (result i32) (i32.and (local.get $headers) (i32.eqz (call $below (i32.const 4))))
        (then (i32.const 2)) (else (i32.const 0))))))
    (local.set $k (call $below (i32.const 16)))
    (if (i32.lt_u (local.get $k) (i32.const 6)) (then (return (local.get $k))))
    (if (i32.eq (local.get $k) (i32.const 6)) (then (return (i32.const -1))))
    (if (i32.eq (local.get $k) (i32.const 7)) (then (return (call $rand))))
    (if (i32.eq (local.get $k) (i32.const 8)) (then (return (i32.const 100))))
    (i32.const 0))

  ;; ------------------------------------------------------------------ argument builders

  (func $int (result i32) (local $k i32)
    (local.set $k (call $below (i32.const 16)))
    (block $b15 (block $b14 (block $b13 (block $b12 (block $b11 (block $b10 (block $b9 (block $b8
    (block $b7 (block $b6 (block $b5 (block $b4 (block $b3 (block $b2 (block $b1 (block $b0
      (br_table $b0 $b1 $b2 $b3 $b4 $b5 $b6 $b7 $b8 $b9 $b10 $b11 $b12 $b13 $b14 $b15 (local.get $k)))
      (return (i32.const 0)))
      (return (i32.const 1)))
      (return (call $below (i32.const 16))))
      (return (call $below (i32.const 1024))))
      (return (i32.const -1)))
      (return (i32.const 0x7fffffff)))
      (return (i32.const 0x80000000)))
      (return (call $rand)))
      (return (i32.add (i32.const 100) (call $below (i32.const 500)))))
      (return (global.get $arg1)))
      (return (global.get $arg2)))
      (return (call $below (i32.const 100000))))
      (return (global.get $result)))
      (return (call $below (i32.const 4))))
      (return (call $below (i32.const 70000))))
    (call $below (i32.const 3)))

  (func $int64 (result i64) (local $k i32)
    (local.set $k (call $below (i32.const 6)))
    (if (i32.eqz (local.get $k)) (then (return (i64.const 0))))
    (if (i32.eq (local.get $k) (i32.const 1)) (then (return (i64.const 1))))
    (if (i32.eq (local.get $k) (i32.const 2)) (then (return (i64.const -1))))
    (if (i32.eq (local.get $k) (i32.const 3)) (then (return (i64.const 0x7fffffffffffffff))))
    (if (i32.eq (local.get $k) (i32.const 4)) (then (return (i64.const 0x8000000000000000))))
    (i64.extend_i32_s (call $rand)))

  (func $enum (result i32) (local $k i32)
    (if (global.get $sane) (then (return (call $below (i32.const 9)))))
    (local.set $k (call $below (i32.const 16)))
    (if (i32.lt_u (local.get $k) (i32.const 12)) (then (return (local.get $k))))
    (if (i32.eq (local.get $k) (i32.const 12)) (then (return (i32.const -1))))
    (if (i32.eq (local.get $k) (i32.const 13)) (then (return (call $rand))))
    (if (i32.eq (local.get $k) (i32.const 14)) (then (return (i32.const 0x80000000))))
    (call $below (i32.const 4)))

  (func $tok (result i32) (local $k i32)
    (local.set $k (call $below (i32.const 12)))
    (if (i32.lt_u (local.get $k) (i32.const 4)) (then (return (call $below (i32.const 8)))))
    (if (i32.eq (local.get $k) (i32.const 4)) (then (return (global.get $arg1))))
    (if (i32.eq (local.get $k) (i32.const 5))
      (then (return (i32.load (i32.add (i32.const ${OUT}) (i32.shl (call $below (i32.const 256)) (i32.const 2)))))))
    (if (i32.eq (local.get $k) (i32.const 6)) (then (return (global.get $ctx))))
    (if (i32.eq (local.get $k) (i32.const 7)) (then (return (i32.sub (i32.add (global.get $ctx) (i32.const 1)) (call $below (i32.const 3))))))
    (if (i32.eq (local.get $k) (i32.const 8)) (then (return (i32.const -1))))
    (if (i32.eq (local.get $k) (i32.const 9)) (then (return (call $rand))))
    (if (i32.eq (local.get $k) (i32.const 10)) (then (return (i32.add (i32.const 4) (call $below (i32.const 12))))))
    (global.get $result))

  (func $out (result i32) (local $k i32)
    (local.set $k (call $below (if (result i32) (global.get $sane) (then (i32.const 7)) (else (i32.const 16)))))
    (if (i32.lt_u (local.get $k) (i32.const 7))
      (then (return (i32.add (i32.const ${OUT}) (i32.shl (call $below (i32.const 256)) (i32.const 2))))))
    (if (i32.eq (local.get $k) (i32.const 7)) (then (return (i32.add (i32.const ${OUT}) (call $below (i32.const 1020))))))
    (if (i32.eq (local.get $k) (i32.const 8)) (then (return (i32.const 0))))
    (if (i32.eq (local.get $k) (i32.const 9)) (then (return (i32.sub (call $memsize) (call $below (i32.const 8))))))
    (if (i32.eq (local.get $k) (i32.const 10)) (then (return (i32.add (call $memsize) (call $below (i32.const 65536))))))
    (if (i32.eq (local.get $k) (i32.const 11)) (then (return (i32.sub (i32.const -1) (call $below (i32.const 8))))))
    (if (i32.eq (local.get $k) (i32.const 12)) (then (return (i32.add (i32.const ${PAIRS}) (call $below (i32.const 16384))))))
    (if (i32.eq (local.get $k) (i32.const 13)) (then (return (i32.add (i32.const ${DICT_TABLE}) (call $below (i32.const 1024))))))
    (if (i32.eq (local.get $k) (i32.const 14)) (then (return (call $rand))))
    (i32.add (i32.const ${PAYLOAD}) (call $below (i32.const ${PAYLOAD_SIZE}))))

  ;; Dictionary word i: pointer returned, length in $len (read from the table, which the host may
  ;; have overwritten: the result is then just another random range).
  (func $word (param $i i32) (result i32)
    (global.set $len (i32.load (i32.add (i32.const ${DICT_TABLE + 4}) (i32.shl (local.get $i) (i32.const 3)))))
    (i32.load (i32.add (i32.const ${DICT_TABLE}) (i32.shl (local.get $i) (i32.const 3)))))

  (func $buf (result i32) (local $k i32) (local $p i32) (local $room i32)
    (local.set $k (call $below (i32.const 24)))
    (if (i32.and (global.get $sane) (i32.ge_u (local.get $k) (i32.const 12))) (then (local.set $k (i32.const 20))))
    (if (i32.lt_u (local.get $k) (i32.const 8)) (then (return (call $word (call $below (i32.const ${DICTIONARY.length}))))))
    (if (i32.lt_u (local.get $k) (i32.const 12))
      (then
        (global.set $len (call $below (i32.const 256)))
        (return (i32.add (i32.const ${PAYLOAD}) (call $below (i32.const ${PAYLOAD_SIZE - 256}))))))
    (if (i32.eq (local.get $k) (i32.const 12))
      (then
        ;; an overlong value that is inside memory: up to the end of memory
        (local.set $p (i32.add (i32.const ${HEAP}) (call $below (i32.const 1024))))
        (global.set $len (call $below (i32.sub (call $memsize) (local.get $p))))
        (return (local.get $p))))
    (if (i32.eq (local.get $k) (i32.const 13)) (then (global.set $len (i32.const 0)) (return (i32.const 0))))
    (if (i32.eq (local.get $k) (i32.const 14)) (then (global.set $len (i32.const 0)) (return (i32.const ${PAYLOAD}))))
    (if (i32.eq (local.get $k) (i32.const 15))
      (then
        (global.set $len (i32.add (call $below (i32.const 64)) (i32.const 1)))
        (return (i32.sub (call $memsize) (call $below (i32.const 16))))))
    (if (i32.eq (local.get $k) (i32.const 16))
      (then
        (global.set $len (call $below (i32.const 16)))
        (return (i32.add (call $memsize) (call $below (i32.const 65536))))))
    (if (i32.eq (local.get $k) (i32.const 17))
      (then
        (global.set $len (i32.add (call $below (i32.const 16)) (i32.const 1)))
        (return (i32.sub (i32.const -1) (call $below (i32.const 8))))))
    (if (i32.eq (local.get $k) (i32.const 18))
      (then
        (local.set $room (call $below (i32.const 4)))
        (global.set $len
          (if (result i32) (i32.eqz (local.get $room)) (then (i32.const -1))
            (else (if (result i32) (i32.eq (local.get $room) (i32.const 1)) (then (i32.const 0x80000000))
              (else (if (result i32) (i32.eq (local.get $room) (i32.const 2)) (then (i32.const 0x7fffffff))
                (else (call $memsize))))))))
        (return (i32.const ${PAYLOAD}))))
    (if (i32.eq (local.get $k) (i32.const 19)) (then (global.set $len (call $rand)) (return (call $rand))))
    (if (i32.eq (local.get $k) (i32.const 22)) (then (global.set $len (call $below (i32.const 64))) (return (i32.const 0))))
    (call $pairs))

  ;; Half of the well-formed names are clusters (the first six names), so callouts get through.
  (func $name (result i32)
    (if (i32.and (global.get $sane) (call $below (i32.const 2)))
      (then (return (call $word (i32.add (i32.const ${NAME_START}) (call $below (i32.const 6)))))))
    (if (result i32) (i32.or (global.get $sane) (call $below (i32.const 2)))
      (then (call $word (i32.add (i32.const ${NAME_START}) (call $below (i32.const ${DICTIONARY.length - NAME_START})))))
      (else (call $buf))))

  ;; Dictionary word i copied to dst (at most max bytes); returns its length.
  (func $copy_word (param $dst i32) (param $i i32) (param $max i32) (result i32) (local $src i32) (local $n i32)
    (local.set $src (call $word (local.get $i)))
    (local.set $n (i32.and (global.get $len) (i32.const 255)))
    (if (i32.gt_u (local.get $n) (local.get $max)) (then (local.set $n (local.get $max))))
    (call $copy (local.get $dst) (local.get $src) (local.get $n)))

  ;; A key or value for a pair, copied to dst: a dictionary word or a payload slice. Returns its length.
  (func $pair_part (param $dst i32) (param $max i32) (result i32) (local $src i32) (local $n i32)
    (if (call $below (i32.const 3))
      (then
        (local.set $src (call $word (call $below (i32.const ${DICTIONARY.length}))))
        (local.set $n (i32.and (global.get $len) (i32.const 255))))
      (else
        (local.set $src (i32.add (i32.const ${PAYLOAD}) (call $below (i32.const ${PAYLOAD_SIZE - 256}))))
        (local.set $n (call $below (i32.const 256)))))
    (if (i32.gt_u (local.get $n) (local.get $max)) (then (local.set $n (local.get $max))))
    (call $copy (local.get $dst) (local.get $src) (local.get $n)))

  ;; Serialized pairs at PAIRS (count, sizes, NUL-terminated keys and values): valid, or with a
  ;; lying count, a truncated size, an inflated entry, a missing NUL or trailing garbage.
  ;; One time in three the first pairs are :method, :path and :authority, as a callout needs.
  (func $pairs (result i32) (local $n i32) (local $i i32) (local $p i32) (local $k i32) (local $v i32) (local $size i32) (local $callout i32) (local $base i32)
    ;; four 4 KiB slots used in turn: one hostcall may take three pairs arguments
    (local.set $base (i32.add (i32.const ${PAIRS}) (i32.shl (global.get $pairs_slot) (i32.const 12))))
    (global.set $pairs_slot (i32.and (i32.add (global.get $pairs_slot) (i32.const 1)) (i32.const 3)))
    (local.set $callout (i32.eqz (call $below (i32.const 3))))
    (local.set $n (i32.add (call $below (i32.const 7)) (i32.mul (local.get $callout) (i32.const 3))))
    (i32.store (local.get $base) (local.get $n))
    (local.set $p (i32.add (i32.add (local.get $base) (i32.const 4)) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.and (local.get $callout) (i32.lt_u (local.get $i) (i32.const 3)))
          (then
            ;; word 1 ":method", word 0 ":path", word 2 ":authority"
            (local.set $k (call $copy_word (local.get $p)
              (if (result i32) (i32.eqz (local.get $i)) (then (i32.const 1)) (else (i32.shl (i32.sub (local.get $i) (i32.const 1)) (i32.const 1))))
              (i32.const 128))))
          (else (local.set $k (call $pair_part (local.get $p) (i32.const 128)))))
        (i32.store8 (i32.add (local.get $p) (local.get $k)) (i32.const 0))
        (local.set $p (i32.add (local.get $p) (i32.add (local.get $k) (i32.const 1))))
        (local.set $v
          (if (result i32) (i32.and (local.get $callout) (i32.lt_u (local.get $i) (i32.const 3)))
            (then (call $copy_word (local.get $p) (i32.add (i32.const ${HEADER_WORDS.length}) (call $below (i32.const ${VALUE_WORDS.length}))) (i32.const 256)))
            (else (call $pair_part (local.get $p) (i32.const 256)))))
        (i32.store8 (i32.add (local.get $p) (local.get $v)) (i32.const 0))
        (local.set $p (i32.add (local.get $p) (i32.add (local.get $v) (i32.const 1))))
        (i32.store (i32.add (i32.add (local.get $base) (i32.const 4)) (i32.shl (local.get $i) (i32.const 3))) (local.get $k))
        (i32.store (i32.add (i32.add (local.get $base) (i32.const 8)) (i32.shl (local.get $i) (i32.const 3))) (local.get $v))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.set $size (i32.sub (local.get $p) (local.get $base)))
    (local.set $k (call $below (i32.const 14)))
    (if (global.get $sane) (then (local.set $k (i32.const 13))))
    (if (i32.eqz (local.get $k))
      (then (i32.store (local.get $base) (i32.add (local.get $n) (i32.add (i32.const 1) (call $below (i32.const 3)))))))
    (if (i32.eq (local.get $k) (i32.const 1)) (then (i32.store (local.get $base) (i32.const -1))))
    (if (i32.eq (local.get $k) (i32.const 2)) (then (i32.store (local.get $base) (i32.const 0x10000000))))
    (if (i32.eq (local.get $k) (i32.const 3)) (then (local.set $size (call $below (i32.add (local.get $size) (i32.const 1))))))
    (if (i32.and (i32.eq (local.get $k) (i32.const 4)) (i32.gt_u (local.get $n) (i32.const 0)))
      (then (i32.store (i32.add (local.get $base) (i32.const 4)) (i32.const 0xfffffff0))))
    (if (i32.and (i32.eq (local.get $k) (i32.const 5)) (i32.gt_u (local.get $n) (i32.const 0)))
      (then (i32.store8 (i32.add (i32.add (i32.add (local.get $base) (i32.const 4)) (i32.shl (local.get $n) (i32.const 3))) (i32.load (i32.add (local.get $base) (i32.const 4)))) (i32.const 0x78))))
    (if (i32.eq (local.get $k) (i32.const 6)) (then (local.set $size (i32.add (local.get $size) (call $below (i32.const 64))))))
    (if (i32.eq (local.get $k) (i32.const 7)) (then (local.set $size (i32.const 3))))
    (global.set $len (local.get $size))
    (local.get $base))

  ;; ------------------------------------------------------------------ the hostcalls
  ${dispatcher()}

  (func $record_gauge (param $id i32) (param $value i64) (result i32)
    (call $h${FUZZ_HOSTCALLS.findIndex(([, name]) => name === "proxy_record_metric")} (local.get $id) (local.get $value)))

  ;; ------------------------------------------------------------------ allocator

  ;; Re-entered from inside hostcalls (§4.2). Normal: a bump heap that wraps around and grows
  ;; memory when a block does not fit. Hostile (config 'h'), one call in three: 0, blocks past or
  ;; straddling the end of memory, blocks on the filter's own data, the previous block again; it
  ;; may also log (the one hostcall the allocator may make).
  (func (export "malloc") (param $size i32) (result i32) (local $p i32) (local $k i32) (local $need i32)
    (if (i32.and (global.get $hostile) (i32.eqz (call $below (i32.const 3))))
      (then
        (local.set $k (call $below (i32.const 10)))
        (if (i32.eqz (local.get $k)) (then (return (i32.const 0))))
        (if (i32.eq (local.get $k) (i32.const 1)) (then (return (i32.sub (call $memsize) (i32.shr_u (local.get $size) (i32.const 1))))))
        (if (i32.eq (local.get $k) (i32.const 2)) (then (return (i32.sub (i32.const -1) (call $below (i32.const 16))))))
        (if (i32.eq (local.get $k) (i32.const 3)) (then (return (i32.const ${PAYLOAD}))))
        (if (i32.eq (local.get $k) (i32.const 4)) (then (return (i32.const ${OUT}))))
        (if (i32.eq (local.get $k) (i32.const 5)) (then (return (global.get $last_block))))
        (if (i32.eq (local.get $k) (i32.const 6)) (then (return (i32.const ${DICT_TABLE}))))
        (if (i32.eq (local.get $k) (i32.const 7)) (then (return (call $memsize))))
        (if (i32.eq (local.get $k) (i32.const 8)) (then (return (i32.const 1))))
        (drop (call $h0 (i32.const 2) (i32.const ${DICT}) (i32.const 5)))))
    (if (i32.gt_u (local.get $size) (i32.const 0x7fffffff)) (then (return (i32.const 0))))
    (if (i32.eqz (call $inside (global.get $heap) (local.get $size)))
      (then
        (global.set $heap (i32.const ${HEAP}))
        (if (i32.eqz (call $inside (global.get $heap) (local.get $size)))
          (then
            (local.set $need (i32.sub (local.get $size) (i32.sub (call $memsize) (i32.const ${HEAP}))))
            (if (i32.eq (memory.grow (i32.shr_u (i32.add (local.get $need) (i32.const 65535)) (i32.const 16))) (i32.const -1))
              (then (return (i32.const 0))))))))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (local.get $p) (local.get $size)) (i32.const 7)) (i32.const -8)))
    (global.set $last_block (local.get $p))
    (local.get $p))

  ;; ------------------------------------------------------------------ callbacks

  ;; Reads the plugin configuration (seed, flags) before its random hostcalls.
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
    (local $p i32) (local $n i32) (local $i i32) (local $c i32) (local $seed i32) (local $calls i32) (local $field i32)
    (global.set $hostile (i32.const 0))
    (global.set $fair (i32.const 0))
    (local.set $calls (i32.const 8))
    (if (i32.eqz (call $h${FUZZ_HOSTCALLS.findIndex(([, name]) => name === "proxy_get_buffer_bytes")}
          (i32.const 7) (i32.const 0) (local.get $size) (i32.const ${CONFIG_SLOTS}) (i32.const ${CONFIG_SLOTS + 4})))
      (then
        (local.set $p (i32.load (i32.const ${CONFIG_SLOTS})))
        (local.set $n (i32.load (i32.const ${CONFIG_SLOTS + 4})))
        (if (call $inside (local.get $p) (local.get $n))
          (then
            (block $done
              (loop $next
                (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
                (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))
                (if (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))
                  (then
                    (if (local.get $field)
                      (then (local.set $calls (i32.add (i32.mul (local.get $calls) (i32.const 10)) (i32.sub (local.get $c) (i32.const 48)))))
                      (else (local.set $seed (i32.add (i32.mul (local.get $seed) (i32.const 10)) (i32.sub (local.get $c) (i32.const 48))))))))
                (if (i32.eq (local.get $c) (i32.const 104)) (then (global.set $hostile (i32.const 1))))
                (if (i32.eq (local.get $c) (i32.const 102)) (then (global.set $fair (i32.const 1))))
                (if (i32.eq (local.get $c) (i32.const 99)) (then (local.set $field (i32.const 1)) (local.set $calls (i32.const 0))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $next)))))))
    (global.set $per_callback (local.get $calls))
    (global.set $rng (i32.xor (i32.mul (local.get $seed) (i32.const 0x9e3779b1)) (i32.const 0x2545f491)))
    (if (i32.eqz (global.get $rng)) (then (global.set $rng (i32.const 0x2545f491))))
    ;; the gauge that carries the hostcall count: "fuzz_hostcalls" (gauge = metric type 1)
    (if (i32.eqz (call $h${FUZZ_HOSTCALLS.findIndex(([, name]) => name === "proxy_define_metric")}
          (i32.const 1) (i32.const ${GAUGE_NAME}) (i32.const 14) (i32.const ${CONFIG_SLOTS + 8})))
      (then (global.set $gauge (i32.load (i32.const ${CONFIG_SLOTS + 8})))))
    (call $enter (i32.const ${CALLBACKS.length}) (local.get $root) (local.get $size) (i32.const 0))
    (call $storm)
    (call $leave)
    (i32.const 1))
  (data (i32.const ${GAUGE_NAME}) "fuzz_hostcalls")
  ${callbackExports()}
)`;
}

let compiled: Uint8Array | undefined;

/** The fuzz filter's binary (compiled once per process). */
export async function fuzzFilterWasm(): Promise<Uint8Array> {
  if (compiled !== undefined) return compiled;
  await initWat();
  compiled = watToWasm(fuzzFilterWat(), { debugNames: true });
  return compiled;
}
