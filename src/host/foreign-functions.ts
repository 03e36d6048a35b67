/**
 * The process-wide foreign function registry behind `proxy_call_foreign_function` (reference
 * §5.17), pre-loaded with the Envoy functions that make sense outside Envoy.
 */
import { deflateSync, inflateSync } from "node:zlib";
import { Result, type ResultCode } from "./constants";
import type { Context } from "./context";

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
      // Envoy needs a stream and a registered object factory; the host only records the call.
      if (site.contextId === 0) return { result: Result.NotFound };
      if (this.keepRecords) this.recorded.push({ name: "set_envoy_filter_state", args: args.slice(), contextId: site.contextId });
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
