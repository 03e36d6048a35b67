/**
 * The `proxy_wasm_test` import module: the JS half of the AssemblyScript test API in
 * `assembly/testing/`. Hosts and streams live in handle tables (one set per spec module).
 *
 * Error protocol: as-pect reports an exception thrown by an import as a failure with an EMPTY
 * message, so no function here lets one escape. A failing operation stores its message and
 * returns a neutral value; the AssemblyScript side calls `has_error` after every operation and
 * aborts with `take_error`'s text, which as-pect then shows against the failing test.
 */
import { HeaderMap, type GrpcCallout, type HttpCallout, type PropertyTree } from "../../host";
import { toBytes } from "../../host/bytes";
import type { BytePair } from "../../host/pairs";
import { HttpStreamHandle, type SideRecord } from "../http-handle";
import type { PluginHandle } from "../plugin-handle";
import type { TcpConnectionHandle } from "../tcp-handle";
import type { TestHost } from "../test-host";
import { ByteHeaderRecord, ByteHeaderTee } from "./byte-header-tee";
import { bytesToWire, decodeBytePairList, encodeBytePairList, wireToBytes } from "./byte-wire";
import { decodePairList, encodeFields } from "./field-list";
import { decodePropertyList } from "./property-list";
import type { FilterLibrary } from "./filter-library";
import { HostSession } from "./host-session";
import { parseHostSettings } from "./host-settings";
import { ONE_VM_MESSAGE, type SpecModuleFilter } from "./spec-module-filter";
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
/**
 * @param self the spec module as the default filter (`new TestHost()` hosts the spec module
 *   itself); absent when the default filter is a built module
 */
export function createProxyWasmTestImports(filters: FilterLibrary, exports: () => AspectStringExports, self?: SpecModuleFilter): Record<string, ImportFunction> {
  const sessions = new Map<number, HostSession>();
  const streams = new Map<number, StreamEntry>();
  const plugins = new Map<number, { readonly session: HostSession; readonly plugin: PluginHandle }>();
  const connections = new Map<number, TcpConnectionHandle>();
  let nextHandle = 1;
  let lastError = "";
  /**
   * The failure report of the spec module's own VM, when a callback of it trapped (an `expect`
   * that failed inside a callback aborts there, and the host contains it as Envoy would); the
   * operation that ran the callback then fails the test with it.
   */
  let selfFailure = "";

  const str = (pointer: number): string => (pointer === 0 ? "" : exports().__getString(pointer));
  const give = (text: string): number => exports().__newString(text);

  /** Runs `body`, turning any exception into the stored error and `fallback`. */
  function guarded<T>(fallback: T, body: () => T): T {
    try {
      const result = body();
      if (selfFailure !== "") {
        lastError = selfFailure;
        selfFailure = "";
      }
      return result;
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
  function entry(handle: number): StreamEntry {
    const found = streams.get(handle);
    if (found === undefined) throw new Error(`no HttpStream with handle ${handle}`);
    return found;
  }
  const stream = (handle: number): HttpStreamHandle => entry(handle).stream;
  function checkSide(which: number): void {
    if (which !== 0 && which !== 1) throw new Error(`stream side must be 0 (upstream) or 1 (downstream), got ${which}`);
  }
  function side(handle: number, which: number): SideRecord {
    checkSide(which);
    return which === 0 ? stream(handle).upstream : stream(handle).downstream;
  }
  /** The headers (or trailers) that reached a side, as bytes when the stream kept them so. */
  function sideHeaderBytes(handle: number, which: number, part: "headers" | "trailers"): readonly BytePair[] {
    checkSide(which);
    const bytes = entry(handle).bytes;
    if (bytes !== null) return (which === 0 ? bytes.up : bytes.down)[part] ?? [];
    return textPairsToBytes(side(handle, which)[part] ?? []);
  }
  function connection(handle: number): TcpConnectionHandle {
    const found = connections.get(handle);
    if (found === undefined) throw new Error(`no TcpConnection with handle ${handle}`);
    return found;
  }
  function pluginEntry(handle: number) {
    const found = plugins.get(handle);
    if (found === undefined) throw new Error(`no Plugin with handle ${handle}`);
    return found;
  }
  /** A new stream of a host (its headers kept as bytes too) or of an added plugin. */
  function openStream(owner: number, properties: PropertyTree): StreamEntry {
    const added = plugins.get(owner);
    if (added !== undefined) return { stream: added.plugin.http({ properties }), bytes: null };
    const testHost = host(owner);
    const bytes = { up: new ByteHeaderRecord(), down: new ByteHeaderRecord() };
    const handle = new HttpStreamHandle((sink) => testHost.host.httpStream(new ByteHeaderTee(sink, bytes.up, bytes.down), { properties }), () => testHost.checkStrict());
    return { stream: handle, bytes };
  }
  /** The session a gRPC / HTTP callout token belongs to. */
  function pendingGrpc(handle: number, token: number): GrpcCallout {
    const found = session(handle).callouts.pendingGrpc.find((c) => c.token === token);
    if (found === undefined) throw new Error(`no pending gRPC call with token ${token}`);
    return found;
  }
  /** Runs a gRPC answer, then the strict check of the host it belongs to. */
  function answerGrpc(handle: number, token: number, answer: (call: GrpcCallout) => void): void {
    answer(pendingGrpc(handle, token));
    session(handle).host?.checkStrict();
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
  const headers = (text: number): BytePair[] => decodeBytePairList(str(text));
  const properties = (text: number): PropertyTree => decodePropertyList(str(text));
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
        if (self !== undefined && parsed.filterName === "" && self.hosted) throw new Error(ONE_VM_MESSAGE);
        const handle = nextHandle++;
        const started =
          self !== undefined && parsed.filterName === ""
            ? new HostSession(self.binary, parsed, undefined, self)
            : new HostSession(filters.bytes(parsed.filterName), parsed, filters.sourceMap(parsed.filterName));
        if (self !== undefined && parsed.filterName === "") {
          started.host?.host.vm.failureListeners.push((failure) => {
            selfFailure = `the spec module failed inside a host callback: ${failure.report}`;
          });
        }
        sessions.set(handle, started);
        return handle;
      }),
    host_start_error: (handle: number) => text(() => session(handle).startError),
    host_failure: (handle: number) => text(() => host(handle).failure ?? ""),
    host_set_log_level: (handle: number, levelName: number) =>
      guarded(undefined, () => {
        const wanted = level(str(levelName));
        if (wanted === undefined) throw new Error("setLogLevel: give a level name");
        session(handle).process.logLevel = wanted;
      }),
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
    callout_headers: (handle: number, token: number) =>
      text(() => {
        pendingCallout(handle, token);
        const raw = session(handle).callouts.all.find((c): c is HttpCallout => c.kind === "http" && c.token === token);
        return encodeBytePairList(raw?.headers.pairs() ?? []);
      }),
    callout_body: (handle: number, token: number) => text(() => pendingCallout(handle, token).body),
    callout_timeout_ms: (handle: number, token: number) => guarded(0, () => pendingCallout(handle, token).timeoutMs),
    callout_respond: (handle: number, token: number, status: number, headerText: number, body: number) =>
      guarded(undefined, () => {
        const callout = pendingCallout(handle, token);
        callout.respond({ status, headers: headers(headerText), body: str(body) });
        session(handle).host?.checkStrict();
      }),
    callout_fail: (handle: number, token: number) =>
      guarded(undefined, () => {
        pendingCallout(handle, token).fail();
        session(handle).host?.checkStrict();
      }),

    // --- HTTP streams -------------------------------------------------------------------------
    stream_new: (owner: number, propertyText: number) =>
      guarded(0, () => {
        const opened = openStream(owner, properties(propertyText));
        const id = nextHandle++;
        streams.set(id, opened);
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
    stream_body_bytes: (handle: number, which: number, chunk: number, endOfStream: number) =>
      text(() => {
        const s = stream(handle);
        const bytes = wireToBytes(str(chunk));
        const options = { endOfStream: endOfStream !== 0 };
        return direction(which) === "request" ? s.requestBody(bytes, options) : s.responseBody(bytes, options);
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
        return encodeBytePairList(s.stream.currentHeaders(direction(which))?.pairs() ?? []);
      }),
    stream_held_body: (handle: number, which: number) => text(() => direction(which) === "request" ? stream(handle).heldRequestBody : stream(handle).heldResponseBody),
    stream_reset_details: (handle: number) => text(() => stream(handle).resetDetails ?? ""),
    side_reached: (handle: number, which: number) => guarded(0, () => (side(handle, which).headers === null ? 0 : 1)),
    side_headers: (handle: number, which: number) => text(() => encodeBytePairList(sideHeaderBytes(handle, which, "headers"))),
    side_body: (handle: number, which: number) => text(() => side(handle, which).body),
    side_body_bytes: (handle: number, which: number) => text(() => bytesToWire(side(handle, which).bodyBytes)),
    side_trailers: (handle: number, which: number) => text(() => encodeBytePairList(sideHeaderBytes(handle, which, "trailers"))),
    side_ended: (handle: number, which: number) => guarded(0, () => (side(handle, which).ended ? 1 : 0)),
    local_status: (handle: number) => guarded(0, () => stream(handle).localResponse?.status ?? 0),
    local_body: (handle: number) => text(() => stream(handle).localResponse?.body ?? ""),
    local_details: (handle: number) => text(() => stream(handle).localResponse?.details ?? ""),
    local_headers: (handle: number) => text(() => encodeBytePairList(stream(handle).stream.localReply?.headers.pairs() ?? [])),
    local_grpc_status: (handle: number) => guarded(-1, () => stream(handle).localResponse?.grpcStatus ?? -1),

    // --- host extras ----------------------------------------------------------------------------
    host_root_context_id: (handle: number) => guarded(0, () => host(handle).rootContextId),
    host_leak_check: (handle: number, iterations: number, requestText: number, requestBody: number, responseText: number, responseBody: number) =>
      guarded(0n, () => {
        if (iterations < 1) throw new Error(`leakCheck: ${iterations} iterations; give at least 1`);
        const testHost = host(handle);
        const request = { headers: headers(requestText), body: str(requestBody) };
        const response = { headers: headers(responseText), body: str(responseBody) };
        return BigInt(testHost.leakCheck(iterations, () => testHost.flow({ request, response })).memoryGrowth);
      }),
    host_trace_lines: (handle: number) => text(() => encodeFields(host(handle).traceLines)),
    host_clear_trace: (handle: number) => guarded(undefined, () => host(handle).clearTrace()),

    // --- further plugins ------------------------------------------------------------------------
    plugin_add: (handle: number, name: number, rootId: number, config: number, propertyText: number) =>
      guarded(0, () => {
        const owner = session(handle);
        const plugin = owner.requireHost().addPlugin({ name: str(name), rootId: str(rootId), pluginConfig: str(config), properties: properties(propertyText) });
        const id = nextHandle++;
        plugins.set(id, { session: owner, plugin });
        return id;
      }),
    plugin_root_context_id: (handle: number) => guarded(0, () => pluginEntry(handle).plugin.rootContextId),
    plugin_shutdown: (handle: number) => guarded(0, () => (pluginEntry(handle).plugin.shutdown() ? 1 : 0)),

    // --- gRPC calls and streams -----------------------------------------------------------------
    grpc_pending_tokens: (handle: number) => text(() => encodeFields(session(handle).callouts.pendingGrpc.map((c) => String(c.token)))),
    grpc_field: (handle: number, token: number, field: number) =>
      text(() => {
        const call = pendingGrpc(handle, token);
        const name = str(field);
        switch (name) {
          case "kind":
            return call.kind;
          case "cluster":
            return call.cluster;
          case "service":
            return call.serviceName;
          case "method":
            return call.methodName;
          default:
            throw new Error(`gRPC call has no field "${name}"`);
        }
      }),
    grpc_initial_metadata: (handle: number, token: number) => text(() => encodeBytePairList(pendingGrpc(handle, token).initialMetadata.pairs())),
    grpc_timeout_ms: (handle: number, token: number) => guarded(0, () => pendingGrpc(handle, token).timeoutMs),
    grpc_message_count: (handle: number, token: number) => guarded(0, () => pendingGrpc(handle, token).messages.length),
    grpc_message: (handle: number, token: number, index: number) =>
      text(() => {
        const messages = pendingGrpc(handle, token).messages;
        if (index < 0 || index >= messages.length) throw new Error(`gRPC call ${token} has ${messages.length} message(s); no message ${index}`);
        return bytesToWire(messages[index]);
      }),
    grpc_receive: (handle: number, token: number, message: number) => guarded(undefined, () => answerGrpc(handle, token, (call) => call.receive(wireToBytes(str(message))))),
    grpc_receive_metadata: (handle: number, token: number, trailing: number, metadata: number) =>
      guarded(undefined, () =>
        answerGrpc(handle, token, (call) => {
          const map = HeaderMap.from(headers(metadata));
          if (trailing !== 0) call.receiveTrailingMetadata(map);
          else call.receiveInitialMetadata(map);
        }),
      ),
    grpc_close: (handle: number, token: number, status: number, message: number) => guarded(undefined, () => answerGrpc(handle, token, (call) => call.close(status, str(message)))),

    // --- TCP connections ------------------------------------------------------------------------
    tcp_new: (owner: number, propertyText: number) =>
      guarded(0, () => {
        const props = properties(propertyText);
        const added = plugins.get(owner);
        const opened = added !== undefined ? added.plugin.tcp({ properties: props }) : host(owner).tcp({ properties: props });
        const id = nextHandle++;
        connections.set(id, opened);
        return id;
      }),
    tcp_new_connection: (handle: number) => text(() => connection(handle).newConnection()),
    tcp_data: (handle: number, from: number, data: number, endOfStream: number) =>
      text(() => {
        const c = connection(handle);
        const bytes = wireToBytes(str(data));
        const options = { endOfStream: endOfStream !== 0 };
        if (from === 0) return c.downstreamData(bytes, options);
        if (from === 1) return c.upstreamData(bytes, options);
        throw new Error(`TCP data must come from 0 (downstream) or 1 (upstream), got ${from}`);
      }),
    tcp_close: (handle: number, remote: number) => guarded(undefined, () => connection(handle).close(remote !== 0 ? "remote" : "local")),
    tcp_received: (handle: number, which: number) =>
      text(() => {
        checkSide(which);
        const c = connection(handle);
        return bytesToWire(which === 0 ? c.upstreamBytes : c.downstreamBytes);
      }),
    tcp_closed_by_host: (handle: number) => guarded(0, () => (connection(handle).closedByHost ? 1 : 0)),
    tcp_finished: (handle: number) => guarded(0, () => (connection(handle).finished ? 1 : 0)),
    tcp_context_id: (handle: number) => guarded(0, () => connection(handle).contextId),
  };
}

/** An HTTP stream of a spec, with its headers as bytes when it was opened on the host itself. */
interface StreamEntry {
  readonly stream: HttpStreamHandle;
  readonly bytes: { readonly up: ByteHeaderRecord; readonly down: ByteHeaderRecord } | null;
}

/** Text pairs (a plugin stream's record) as UTF-8 bytes. */
function textPairsToBytes(pairs: readonly (readonly [string, string])[]): BytePair[] {
  return pairs.map(([name, value]) => [toBytes(name), toBytes(value)]);
}
