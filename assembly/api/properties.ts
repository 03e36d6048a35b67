// Host properties (Envoy attributes), addressed by path segments: ["request", "path"].
// Dots are not separators for Envoy: "request.path" as one segment is a different name.
// Values use Envoy's encodings (proxy-wasm-abi.md §3.4): strings raw, int/uint/double/
// timestamp/duration 8 bytes little-endian, bool 1 byte, maps and lists as pairs.
import { WasmResult } from "../abi/enums";
import * as host from "../runtime/hostcalls";
import { OUT_DATA, OUT_SIZE, takeBytes, takeString, dropResult, stageText, stagedLength, bufferLength } from "../runtime/memory";
import { Header, deserializePairs } from "../runtime/pairs";
import { utf8Encode, utf8Length } from "../runtime/utf8";

function encodePath(path: Array<string>): ArrayBuffer {
  let size = 0;
  for (let i = 0; i < path.length; i++) size += <i32>utf8Length(unchecked(path[i])) + 1;
  const encoded = new ArrayBuffer(size > 0 ? size - 1 : 0);
  let at = changetype<usize>(encoded);
  for (let i = 0; i < path.length; i++) {
    at = utf8Encode(unchecked(path[i]), at) + 1; // the NUL is already there: the buffer is zeroed
  }
  return encoded;
}

function fetch(path: Array<string>): bool {
  let status: WasmResult;
  if (path.length == 1) {
    // One segment is its own encoding: staged, it allocates nothing.
    const segment = stageText(2, changetype<usize>(unchecked(path[0])));
    status = host.getProperty(segment, stagedLength(2));
  } else {
    const encoded = encodePath(path);
    status = host.getProperty(changetype<usize>(encoded), encoded.byteLength);
  }
  if (status == WasmResult.Ok) return true;
  dropResult();
  return false;
}

/** The raw value at `path`, or null if the host has none (lastResult(): NotFound, or
 * SerializationFailure for a value without a byte form). Root-context callbacks only see
 * `xds.*` and `plugin_*` in Envoy. */
export function getProperty(path: Array<string>): ArrayBuffer | null {
  return fetch(path) ? takeBytes() : null;
}

/** A string property, or null if absent. A path written at the call site (`["a", "b"]`) makes
 * an array and its buffer on every call; the `attributes` shortcuts make neither. */
export function getPropertyString(path: Array<string>): string | null {
  return fetch(path) ? takeString() : null;
}

// The attributes below pass their path already encoded, segments joined by NUL ("request\0path"),
// so reading one allocates no array: `["request", "path"]` written at a call site makes an
// Array and its buffer on every call.
function fetchEncoded(path: string): bool {
  const encoded = stageText(2, changetype<usize>(path));
  if (host.getProperty(encoded, stagedLength(2)) == WasmResult.Ok) return true;
  dropResult();
  return false;
}

function stringAt(path: string): string | null {
  return fetchEncoded(path) ? takeString() : null;
}

function fetchWord(path: Array<string>): u64 {
  if (!fetch(path)) return 0;
  const ptr = <usize>load<u32>(OUT_DATA);
  const value = load<u32>(OUT_SIZE) >= 8 ? load<u64>(ptr) : 0;
  dropResult();
  return value;
}

/** An int property (also timestamps and durations, in ns); 0 if absent (check lastResult()). */
export function getPropertyI64(path: Array<string>): i64 {
  return <i64>fetchWord(path);
}

/** A uint property; 0 if absent (check lastResult()). */
export function getPropertyU64(path: Array<string>): u64 {
  return fetchWord(path);
}

/** A double property; 0 if absent (check lastResult()). */
export function getPropertyF64(path: Array<string>): f64 {
  return reinterpret<f64>(fetchWord(path));
}

/** A bool property; false if absent (check lastResult()). */
export function getPropertyBool(path: Array<string>): bool {
  if (!fetch(path)) return false;
  const ptr = <usize>load<u32>(OUT_DATA);
  const value = load<u32>(OUT_SIZE) >= 1 && load<u8>(ptr) != 0;
  dropResult();
  return value;
}

/** A map (or list: keys hold the items, values are empty) property as entries whose key and
 * value bytes are themselves encoded per type; null if absent. */
export function getPropertyMap(path: Array<string>): Array<Header> | null {
  if (!fetch(path)) return null;
  const entries = deserializePairs(<usize>load<u32>(OUT_DATA), load<u32>(OUT_SIZE));
  dropResult();
  return entries;
}

/** Stores `value` under `name` (Envoy: filter state `wasm.<name>`, readable back with
 * getProperty([name])). NotFound in root contexts, BadArgument if a declared prototype
 * rejects it. */
export function setProperty(name: string, value: ArrayBuffer): WasmResult {
  const namePtr = stageText(0, changetype<usize>(name));
  return host.setProperty(namePtr, stagedLength(0), changetype<usize>(value), bufferLength(value));
}

/** setProperty with a UTF-8 value. */
export function setPropertyString(name: string, value: string): WasmResult {
  const namePtr = stageText(0, changetype<usize>(name));
  const valuePtr = stageText(1, changetype<usize>(value));
  return host.setProperty(namePtr, stagedLength(0), valuePtr, stagedLength(1));
}

/** Typed shortcuts for common Envoy attributes (null / 0 when the host has no value). */
export namespace attributes {
  /** `request.path`: the path with the query string. */
  export function requestPath(): string | null { return stringAt("request\0path"); }
  /** `request.url_path`: the path without the query string. */
  export function requestUrlPath(): string | null { return stringAt("request\0url_path"); }
  /** `request.host`: the host (`:authority`) of the request. */
  export function requestHost(): string | null { return stringAt("request\0host"); }
  /** `request.method`. */
  export function requestMethod(): string | null { return stringAt("request\0method"); }
  /** `request.scheme` (http or https). */
  export function requestScheme(): string | null { return stringAt("request\0scheme"); }
  /** `request.protocol`, e.g. "HTTP/1.1". */
  export function requestProtocol(): string | null { return stringAt("request\0protocol"); }
  /** `request.id`: the x-request-id of the stream. */
  export function requestId(): string | null { return stringAt("request\0id"); }
  /** `request.query`: the query string without "?". */
  export function requestQuery(): string | null { return stringAt("request\0query"); }
  /** Nanoseconds since the epoch of the first request byte. */
  export function requestTime(): i64 { return getPropertyI64(["request", "time"]); }
  /** `response.code`: the HTTP status; 0 before the response. */
  export function responseCode(): i64 { return getPropertyI64(["response", "code"]); }
  /** `response.code_details`: why the status was set. */
  export function responseCodeDetails(): string | null { return stringAt("response\0code_details"); }
  /** `source.address`: the client address as "ip:port". */
  export function sourceAddress(): string | null { return stringAt("source\0address"); }
  /** `source.port`: the client port. */
  export function sourcePort(): i64 { return getPropertyI64(["source", "port"]); }
  /** `destination.address`: the local address as "ip:port". */
  export function destinationAddress(): string | null { return stringAt("destination\0address"); }
  /** `destination.port`: the local port. */
  export function destinationPort(): i64 { return getPropertyI64(["destination", "port"]); }
  /** `connection.id`: the downstream connection id. */
  export function connectionId(): u64 { return getPropertyU64(["connection", "id"]); }
  /** `connection.mtls`: true if the client presented a certificate over TLS. */
  export function connectionMtls(): bool { return getPropertyBool(["connection", "mtls"]); }
  /** `plugin_name`: the plugin's configured name. */
  export function pluginName(): string | null { return stringAt("plugin_name"); }
  /** `plugin_root_id`: the root_id of this plugin. */
  export function pluginRootId(): string | null { return stringAt("plugin_root_id"); }
  /** `plugin_vm_id`: the vm_id of this VM. */
  export function pluginVmId(): string | null { return stringAt("plugin_vm_id"); }
  /** `xds.cluster_name`: the upstream cluster of the route. */
  export function xdsClusterName(): string | null { return stringAt("xds\0cluster_name"); }
  /** `xds.route_name`: the name of the matched route. */
  export function xdsRouteName(): string | null { return stringAt("xds\0route_name"); }
  /** `xds.node.id`: the proxy's node id. */
  export function xdsNodeId(): string | null { return stringAt("xds\0node\0id"); }
  /** A string value of the node metadata. */
  export function xdsNodeMetadata(key: string): string | null { return getPropertyString(["xds", "node", "metadata", key]); }
  /** 1 = INBOUND, 2 = OUTBOUND. */
  export function xdsListenerDirection(): i64 { return getPropertyI64(["xds", "listener_direction"]); }
}
