/**
 * The process-wide foreign function registry behind `proxy_call_foreign_function` (reference
 * §5.17), pre-loaded with the Envoy functions that make sense outside Envoy.
 */
import { deflateSync, inflateSync } from "node:zlib";
import { Result, type ResultCode } from "./constants";
import type { Context } from "./context";
import type { StreamInfo } from "./stream-info";

/** What a foreign function returns: a result code and optional output bytes. */
export interface ForeignResult {
  readonly result: ResultCode;
  readonly output?: Uint8Array;
}

/** Information about the call site, for functions that act on the stream. */
export interface ForeignCallSite {
  readonly contextId: number;
  /** The calling context (absent when a function is called outside a VM, e.g. in a unit test). */
  readonly context?: Context;
  readonly pluginName: string;
  readonly vmId: string;
  /** The calling stream's info; null in a root context. */
  readonly streamInfo?: StreamInfo | null;
}

export type ForeignFunction = (args: Uint8Array, site: ForeignCallSite) => ForeignResult;

/** A call the host recorded for functions whose effect lives in Envoy (route cache, filter state). */
export interface RecordedForeignCall {
  readonly name: string;
  readonly args: Uint8Array;
  readonly contextId: number;
}

export class ForeignFunctionRegistry {
  private readonly functions = new Map<string, ForeignFunction>();
  /** Calls to `clear_route_cache` and `set_envoy_filter_state`, in order (while `keepRecords`). */
  readonly recorded: RecordedForeignCall[] = [];
  /**
   * False stops `recorded` from growing: a long-running host (the dev proxy) acts on the calls
   * through `onClearRouteCache` instead of keeping one record per request.
   */
  keepRecords = true;
  /** Told of every `clear_route_cache` (foreign function or `proxy_clear_route_cache`), with its call site. */
  onClearRouteCache: ((site: ForeignCallSite) => void) | null = null;

  constructor() {
    this.register("compress", (args) => {
      try {
        return { result: Result.Ok, output: new Uint8Array(deflateSync(args)) };
      } catch {
        return { result: Result.SerializationFailure };
      }
    });
    this.register("uncompress", (args) => {
      try {
        return { result: Result.Ok, output: new Uint8Array(inflateSync(args)) };
      } catch {
        return { result: Result.SerializationFailure };
      }
    });
    this.register("clear_route_cache", (args, site) => {
      this.clearRouteCache(args, site);
      return { result: Result.Ok };
    });
    this.register("set_envoy_filter_state", (args, site) => {
      // Envoy needs a stream and a registered object factory (envoy source/extensions/common/wasm/
      // foreign.cc, context.cc `setEnvoyFilterState`); the host records the call and keeps the
      // value on the stream, where the dev proxy's tcp_proxy finds `envoy.tcp_proxy.cluster`.
      if (site.contextId === 0) return { result: Result.NotFound };
      if (this.keepRecords) this.recorded.push({ name: "set_envoy_filter_state", args: args.slice(), contextId: site.contextId });
      const decoded = decodeFilterStateArguments(args);
      if (decoded !== null && site.streamInfo) (site.streamInfo.envoyFilterState ??= new Map()).set(decoded.path, decoded.value);
      return { result: Result.Ok };
    });
  }

  /**
   * A stream asked its host to pick its route again (Envoy: `clearRouteCache` on the stream's
   * downstream callbacks, source/extensions/common/wasm/context.cc): recorded, and passed on.
   */
  clearRouteCache(args: Uint8Array, site: ForeignCallSite): void {
    if (this.keepRecords) this.recorded.push({ name: "clear_route_cache", args: args.slice(), contextId: site.contextId });
    this.onClearRouteCache?.(site);
  }

  /** Adds or replaces a function; it is visible to every VM of the process. */
  register(name: string, fn: ForeignFunction): void {
    this.functions.set(name, fn);
  }

  get(name: string): ForeignFunction | undefined {
    return this.functions.get(name);
  }
}

/**
 * `SetEnvoyFilterStateArguments { string path = 1; string value = 2; LifeSpan span = 3; }` from
 * its protobuf bytes; null when they do not parse (unknown fields are skipped, as protobuf does).
 */
export function decodeFilterStateArguments(bytes: Uint8Array): { path: string; value: Uint8Array } | null {
  let at = 0;
  const varint = (): number | null => {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (at >= bytes.length) return null;
      const byte = bytes[at++];
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
    }
    return null;
  };
  let path = "";
  let value = new Uint8Array(0);
  while (at < bytes.length) {
    const key = varint();
    if (key === null) return null;
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      if (varint() === null) return null;
    } else if (wire === 2) {
      const length = varint();
      if (length === null || at + length > bytes.length) return null;
      const data = bytes.subarray(at, at + length);
      at += length;
      if (field === 1) path = new TextDecoder().decode(data);
      else if (field === 2) value = data.slice();
    } else if (wire === 5) {
      at += 4;
    } else if (wire === 1) {
      at += 8;
    } else {
      return null;
    }
    if (at > bytes.length) return null;
  }
  return path === "" ? null : { path, value };
}
