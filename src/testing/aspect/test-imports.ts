/**
 * The `proxy_wasm_test` import module: the JS half of the AssemblyScript test API in
 * `assembly/testing/`. Hosts and streams live in handle tables (one set per spec module).
 *
 * Error protocol: as-pect reports an exception thrown by an import as a failure with an EMPTY
 * message, so no function here lets one escape. A failing operation stores its message and
 * returns a neutral value; the AssemblyScript side calls `has_error` after every operation and
 * aborts with `take_error`'s text, which as-pect then shows against the failing test.
 */
import type { HttpStreamHandle, SideRecord } from "../http-handle";
import type { TestHost } from "../test-host";
import { decodePairList, encodeFields, encodePairList } from "./field-list";
import type { FilterLibrary } from "./filter-library";
import { HostSession } from "./host-session";
import { parseHostSettings } from "./host-settings";
import { LOG_LEVEL_NAMES } from "../../host/constants";
import type { LogLevelName } from "../../host";

/** The loader helpers a spec module has because as-pect compiles with `exportRuntime`. */
export interface AspectStringExports {
  __getString(pointer: number): string;
  __newString(text: string): number;
}

/** Name of the import module the AssemblyScript test API declares its functions in. */
export const TEST_IMPORT_MODULE = "proxy_wasm_test";

type ImportFunction = (...args: never[]) => number | bigint | void;

/**
 * Builds the `proxy_wasm_test` functions. `exports` is called lazily because the imports must
 * exist before the module they read strings from is instantiated.
 */
export function createProxyWasmTestImports(filters: FilterLibrary, exports: () => AspectStringExports): Record<string, ImportFunction> {
  const sessions = new Map<number, HostSession>();
  const streams = new Map<number, HttpStreamHandle>();
  let nextHandle = 1;
  let lastError = "";

  const str = (pointer: number): string => (pointer === 0 ? "" : exports().__getString(pointer));
  const give = (text: string): number => exports().__newString(text);

  /** Runs `body`, turning any exception into the stored error and `fallback`. */
  function guarded<T>(fallback: T, body: () => T): T {
    try {
      return body();
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
      return fallback;
    }
  }

  function session(handle: number): HostSession {
    const found = sessions.get(handle);
    if (found === undefined) throw new Error(`no TestHost with handle ${handle}`);
    return found;
  }
  const host = (handle: number): TestHost => session(handle).requireHost();
  function stream(handle: number): HttpStreamHandle {
    const found = streams.get(handle);
    if (found === undefined) throw new Error(`no HttpStream with handle ${handle}`);
    return found;
  }
  function side(handle: number, which: number): SideRecord {
    if (which !== 0 && which !== 1) throw new Error(`stream side must be 0 (upstream) or 1 (downstream), got ${which}`);
    return which === 0 ? stream(handle).upstream : stream(handle).downstream;
  }
  function direction(which: number): "request" | "response" {
    if (which !== 0 && which !== 1) throw new Error(`direction must be 0 (request) or 1 (response), got ${which}`);
    return which === 0 ? "request" : "response";
  }
  /** "" means any level. */
  function level(name: string): LogLevelName | undefined {
    if (name === "") return undefined;
    if (!(LOG_LEVEL_NAMES as readonly string[]).includes(name)) throw new Error(`"${name}" is not a log level (${LOG_LEVEL_NAMES.join(", ")})`);
    return name as LogLevelName;
  }
  const headers = (text: number): [string, string][] => decodePairList(str(text));
  /** Runs `body` and hands its string to the module ("" when it failed; see the error protocol). */
  const text = (body: () => string): number => give(guarded("", body));
  /** Finds a not-yet-answered HTTP callout by the token the plugin got. */
  function pendingCallout(handle: number, token: number) {
    const found = session(handle).callouts.pendingHttp.find((c) => c.token === token);
    if (found === undefined) throw new Error(`no pending HTTP callout with token ${token}`);
    return found;
  }

  return {
    has_error: () => (lastError === "" ? 0 : 1),
    take_error: () => {
      const text = lastError;
      lastError = "";
      return give(text);
    },

    // --- hosts -------------------------------------------------------------------------------
    host_start: (settings: number) =>
      guarded(0, () => {
        const parsed = parseHostSettings(decodePairList(str(settings)));
        const handle = nextHandle++;
        sessions.set(handle, new HostSession(filters.bytes(parsed.filterName), parsed));
        return handle;
      }),
    host_start_error: (handle: number) => text(() => session(handle).startError),
    host_failure: (handle: number) => text(() => host(handle).failure ?? ""),
    host_advance_time: (handle: number, ms: bigint) =>
      guarded(undefined, () => {
        if (ms < 0n) throw new Error(`advanceTime: ${ms} ms is negative`);
        host(handle).advanceTime(Number(ms));
      }),
    host_flush_queues: (handle: number) => guarded(0, () => host(handle).flushQueues()),
    host_has_metric: (handle: number, name: number) => guarded(0, () => (host(handle).metric(str(name)) === undefined ? 0 : 1)),
    host_metric: (handle: number, name: number) =>
      guarded(0n, () => {
        const value = host(handle).metric(str(name));
        if (value === undefined) throw new Error(`no metric named "${str(name)}"`);
        return BigInt.asIntN(64, value);
      }),
    host_shared_data: (handle: number, key: number) =>
      text(() => {
        const value = host(handle).sharedData(str(key));
        if (value === undefined) throw new Error(`no shared data under key "${str(key)}"`);
        return value;
      }),
    host_has_shared_data: (handle: number, key: number) => guarded(0, () => (host(handle).sharedData(str(key)) === undefined ? 0 : 1)),
    host_shutdown: (handle: number) => guarded(0, () => (host(handle).shutdown() ? 1 : 0)),

    // --- logs (available even when the plugin failed to start) --------------------------------
    logs_messages: (handle: number, levelName: number) =>
      text(() => {
        const wanted = level(str(levelName));
        const records = session(handle).logs.records.filter((r) => wanted === undefined || r.level === wanted);
        return encodeFields(records.map((r) => r.message));
      }),
    logs_lines: (handle: number) => text(() => encodeFields(session(handle).logs.lines)),
    logs_contains: (handle: number, message: number, levelName: number) => guarded(0, () => (session(handle).logs.contains(str(message), level(str(levelName))) ? 1 : 0)),
    logs_includes: (handle: number, fragment: number, levelName: number) => guarded(0, () => (session(handle).logs.includes(str(fragment), level(str(levelName))) ? 1 : 0)),
    logs_clear: (handle: number) => guarded(undefined, () => session(handle).logs.clear()),

    // --- HTTP callouts ------------------------------------------------------------------------
    callouts_pending_tokens: (handle: number) => text(() => encodeFields(session(handle).callouts.pendingHttp.map((c) => String(c.token)))),
    callout_cluster: (handle: number, token: number) => text(() => pendingCallout(handle, token).cluster),
    callout_headers: (handle: number, token: number) => text(() => encodePairList(pendingCallout(handle, token).headers)),
    callout_body: (handle: number, token: number) => text(() => pendingCallout(handle, token).body),
    callout_timeout_ms: (handle: number, token: number) => guarded(0, () => pendingCallout(handle, token).timeoutMs),
    callout_respond: (handle: number, token: number, status: number, headerText: number, body: number) =>
      guarded(undefined, () => {
        const callout = pendingCallout(handle, token);
        callout.respond({ status, headers: decodePairList(str(headerText)), body: str(body) });
        session(handle).host?.checkStrict();
      }),
    callout_fail: (handle: number, token: number) =>
      guarded(undefined, () => {
        pendingCallout(handle, token).fail();
        session(handle).host?.checkStrict();
      }),

    // --- HTTP streams -------------------------------------------------------------------------
    stream_new: (handle: number) =>
      guarded(0, () => {
        const id = nextHandle++;
        streams.set(id, host(handle).http());
        return id;
      }),
    stream_headers: (handle: number, which: number, headerText: number, endOfStream: number) =>
      text(() => {
        const s = stream(handle);
        const map = headers(headerText);
        const options = { endOfStream: endOfStream !== 0 };
        return direction(which) === "request" ? s.requestHeaders(map, options) : s.responseHeaders(map, options);
      }),
    stream_body: (handle: number, which: number, chunk: number, endOfStream: number) =>
      text(() => {
        const s = stream(handle);
        const options = { endOfStream: endOfStream !== 0 };
        return direction(which) === "request" ? s.requestBody(str(chunk), options) : s.responseBody(str(chunk), options);
      }),
    stream_trailers: (handle: number, which: number, trailerText: number) =>
      text(() => {
        const s = stream(handle);
        const map = headers(trailerText);
        return direction(which) === "request" ? s.requestTrailers(map) : s.responseTrailers(map);
      }),
    stream_complete: (handle: number) => guarded(undefined, () => stream(handle).complete()),
    stream_context_id: (handle: number) => guarded(0, () => stream(handle).contextId),
    stream_current_headers: (handle: number, which: number) =>
      text(() => {
        const s = stream(handle);
        const current = direction(which) === "request" ? s.requestHeadersNow : s.responseHeadersNow;
        return encodePairList(current ?? []);
      }),
    stream_held_body: (handle: number, which: number) => text(() => direction(which) === "request" ? stream(handle).heldRequestBody : stream(handle).heldResponseBody),
    stream_reset_details: (handle: number) => text(() => stream(handle).resetDetails ?? ""),
    side_reached: (handle: number, which: number) => guarded(0, () => (side(handle, which).headers === null ? 0 : 1)),
    side_headers: (handle: number, which: number) => text(() => encodePairList(side(handle, which).headers ?? [])),
    side_body: (handle: number, which: number) => text(() => side(handle, which).body),
    side_trailers: (handle: number, which: number) => text(() => encodePairList(side(handle, which).trailers ?? [])),
    side_ended: (handle: number, which: number) => guarded(0, () => (side(handle, which).ended ? 1 : 0)),
    local_status: (handle: number) => guarded(0, () => stream(handle).localResponse?.status ?? 0),
    local_body: (handle: number) => text(() => stream(handle).localResponse?.body ?? ""),
    local_details: (handle: number) => text(() => stream(handle).localResponse?.details ?? ""),
    local_headers: (handle: number) => text(() => encodePairList(stream(handle).localResponse?.headers ?? [])),
    local_grpc_status: (handle: number) => guarded(-1, () => stream(handle).localResponse?.grpcStatus ?? -1),
  };
}
