/**
 * Builds the small hand-written WAT modules the conformance tests run. A test writes only the
 * callbacks it needs; this adds the ABI marker, the `env` imports those callbacks call (with the
 * signatures of reference §1.3, written out here independently of the host's own tables), the
 * shared prelude (tests/fixtures/wat-conformance/prelude.wat: memory, malloc, log helpers) and
 * one data segment per string literal.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { initWat, watToWasm } from "../../helpers/wat";

await initWat();

const PRELUDE = readFileSync(fileURLToPath(new URL("../../fixtures/wat-conformance/prelude.wat", import.meta.url)), "utf8");

/** Parameter types of every `env` hostcall (all return i32 except where noted). */
const HOSTCALL_PARAMS: Readonly<Record<string, string>> = {
  proxy_log: "i32 i32 i32",
  proxy_get_log_level: "i32",
  proxy_get_status: "i32 i32 i32",
  proxy_set_property: "i32 i32 i32 i32",
  proxy_get_property: "i32 i32 i32 i32",
  proxy_send_local_response: "i32 i32 i32 i32 i32 i32 i32 i32",
  proxy_get_shared_data: "i32 i32 i32 i32 i32",
  proxy_set_shared_data: "i32 i32 i32 i32 i32",
  proxy_register_shared_queue: "i32 i32 i32",
  proxy_resolve_shared_queue: "i32 i32 i32 i32 i32",
  proxy_dequeue_shared_queue: "i32 i32 i32",
  proxy_enqueue_shared_queue: "i32 i32 i32",
  proxy_get_header_map_value: "i32 i32 i32 i32 i32",
  proxy_add_header_map_value: "i32 i32 i32 i32 i32",
  proxy_replace_header_map_value: "i32 i32 i32 i32 i32",
  proxy_remove_header_map_value: "i32 i32 i32",
  proxy_get_header_map_pairs: "i32 i32 i32",
  proxy_set_header_map_pairs: "i32 i32 i32",
  proxy_get_header_map_size: "i32 i32",
  proxy_get_buffer_status: "i32 i32 i32",
  proxy_get_buffer_bytes: "i32 i32 i32 i32 i32",
  proxy_set_buffer_bytes: "i32 i32 i32 i32 i32",
  proxy_http_call: "i32 i32 i32 i32 i32 i32 i32 i32 i32 i32",
  proxy_grpc_call: "i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32",
  proxy_grpc_stream: "i32 i32 i32 i32 i32 i32 i32 i32 i32",
  proxy_grpc_send: "i32 i32 i32 i32",
  proxy_grpc_cancel: "i32",
  proxy_grpc_close: "i32",
  proxy_set_tick_period_milliseconds: "i32",
  proxy_get_current_time_nanoseconds: "i32",
  proxy_define_metric: "i32 i32 i32 i32",
  proxy_increment_metric: "i32 i64",
  proxy_record_metric: "i32 i64",
  proxy_get_metric: "i32 i32",
  proxy_set_effective_context: "i32",
  proxy_done: "",
  proxy_call_foreign_function: "i32 i32 i32 i32 i32 i32",
  proxy_continue_stream: "i32",
  proxy_close_stream: "i32",
  proxy_get_configuration: "i32 i32",
  proxy_continue_request: "",
  proxy_continue_response: "",
  proxy_clear_route_cache: "",
};

export type AbiVersion = "0.1.0" | "0.2.0" | "0.2.1";

/** Out-parameter slots in linear memory (the prelude keeps 0x40..0x7f free for them). */
export const OUT = { ptr: 0x40, size: 0x44, extra: 0x48, u64: 0x50 } as const;

/** Helpers a module body uses to place strings and log results; each returns WAT text. */
export class WatText {
  private readonly segments: string[] = [];
  private next = 0x100;

  /** `(i32.const ptr) (i32.const len)` for a data segment holding `value` (UTF-8 or raw bytes). */
  str(value: string | Uint8Array): string {
    const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
    const at = this.next;
    this.next += Math.max(bytes.length, 1) + 7 & ~7;
    if (this.next > 0x8000) throw new Error("conformance module: string data overflows 0x8000");
    const escaped = [...bytes].map((b) => "\\" + b.toString(16).padStart(2, "0")).join("");
    this.segments.push(`(data (i32.const ${at}) "${escaped}")`);
    return `(i32.const ${at}) (i32.const ${bytes.length})`;
  }

  /** Logs `<label>=<value of expr, unsigned decimal>`. */
  log(label: string, expr: string): string {
    return `(call $logc ${this.str(label)} ${expr})`;
  }

  /** Logs `text` as is. */
  say(text: string): string {
    return `(call $log ${this.str(text)})`;
  }

  /** Logs the bytes a hostcall returned through OUT.ptr/OUT.size, as text. */
  logOut(): string {
    return `(call $log (i32.load (i32.const ${OUT.ptr})) (i32.load (i32.const ${OUT.size})))`;
  }

  /** Logs `<label>=<hex>` of the bytes returned through OUT.ptr/OUT.size. */
  hexOut(label: string): string {
    return `(call $loghex ${this.str(label)} (i32.load (i32.const ${OUT.ptr})) (i32.load (i32.const ${OUT.size})))`;
  }

  /** Logs the u32 at `address` as `<label>=<n>`. */
  logU32(label: string, address: number): string {
    return this.log(label, `(i32.load (i32.const ${address}))`);
  }

  /** Logs the u64 at OUT.u64 as 16 hex digits of little-endian bytes. */
  hexU64(label: string): string {
    return `(call $loghex ${this.str(label)} (i32.const ${OUT.u64}) (i32.const 8))`;
  }

  /** The data segments for every string used so far. */
  dataSegments(): string {
    return this.segments.join("\n  ");
  }
}

/**
 * Compiles a module whose exports are written by `body` (WAT module fields, usually `func`s).
 * Every `$proxy_*` the body calls is imported from `env`; nothing else is.
 */
export function conformanceModule(body: (w: WatText) => string, abi: AbiVersion = "0.2.1"): Uint8Array {
  const w = new WatText();
  const fields = body(w);
  const used = new Set(["proxy_log", ...[...fields.matchAll(/\$(proxy_[a-z_]+)/g)].map((m) => m[1])]);
  const imports = [...used]
    .filter((name) => HOSTCALL_PARAMS[name] !== undefined)
    .map((name) => {
      const params = HOSTCALL_PARAMS[name];
      return `(import "env" "${name}" (func $${name}${params === "" ? "" : ` (param ${params})`} (result i32)))`;
    });
  const text = `(module
  ${imports.join("\n  ")}
${PRELUDE}
  (func (export "proxy_abi_version_${abi.replaceAll(".", "_")}"))
${fields}
  ${w.dataSegments()}
)`;
  return watToWasm(text, { debugNames: true });
}

/** The pairs encoding of reference §3.2, built independently of the host's encoder. */
export function pairsBytes(pairs: readonly (readonly [string, string])[]): Uint8Array {
  const out: number[] = [];
  const u32 = (n: number) => out.push(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24);
  const encoded = pairs.map(([k, v]) => [new TextEncoder().encode(k), new TextEncoder().encode(v)] as const);
  u32(encoded.length);
  for (const [k, v] of encoded) {
    u32(k.length);
    u32(v.length);
  }
  for (const [k, v] of encoded) out.push(...k, 0, ...v, 0);
  return new Uint8Array(out);
}
