// envoy_tcp_routing: picks the upstream cluster of a TCP connection from the client's address
// (last address byte even -> egress-router1, odd -> egress-router2) by setting the filter state
// that Envoy's tcp_proxy reads, `envoy.tcp_proxy.cluster`, through a foreign function.
import {
  RootContext, TcpContext, FilterStatus, getProperty, callForeignFunction, lastResult,
  log, registerRoot, isValidUtf8,
} from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

const SOURCE_ADDRESS = ["source", "address"];

class TcpRoutingRoot extends RootContext {
  onConfigure(pluginConfigurationSize: u32): bool {
    if (pluginConfigurationSize > 0) {
      log.info('[TCP WASM] Configuration: "' + this.pluginConfigurationText() + '"');
    }
    return true;
  }

  createTcpContext(contextId: u32): TcpContext {
    return new SourceRouter(contextId, this);
  }
}

class SourceRouter extends TcpContext {
  onNewConnection(): FilterStatus {
    const raw = getProperty(SOURCE_ADDRESS);
    if (raw === null) {
      log.warn("[TCP WASM] Missing source address property");
      return FilterStatus.Continue;
    }
    if (!isValidUtf8(raw)) {
      log.warn("[TCP WASM] Source address is not valid UTF-8");
      return FilterStatus.Continue;
    }
    const address = String.UTF8.decode(raw);
    const lastByte = lastAddressByte(address);
    if (lastByte < 0) {
      log.warn("[TCP WASM] Could not parse source address: " + address);
      return FilterStatus.Continue;
    }

    const cluster = (lastByte & 1) == 0 ? "egress-router1" : "egress-router2";
    // Envoy's tcp_proxy picks its cluster from this filter state when the connection is
    // established upstream, which happens after onNewConnection returns.
    const result = callForeignFunction("set_envoy_filter_state", filterStateArguments("envoy.tcp_proxy.cluster", cluster));
    if (result !== null) {
      log.info("[TCP WASM] Routed source " + address + " to " + cluster);
    } else {
      log.warn("[TCP WASM] Failed to set filter state envoy.tcp_proxy.cluster: WasmResult " + (<i32>lastResult()).toString());
    }
    return FilterStatus.Continue;
  }
}

// --- Pure helpers (no hostcalls) -------------------------------------------------------------

/**
 * The last byte of the IP address in `address`: `ip`, `ip:port` or `[ipv6]:port` (a bare
 * IPv6 address is accepted too). -1 if it is not an address.
 */
function lastAddressByte(address: string): i32 {
  if (address.startsWith("[")) {
    const close = address.indexOf("]");
    if (close < 0) return -1;
    const rest = address.substring(close + 1);
    if (rest.length > 0 && !(rest.startsWith(":") && isPort(rest.substring(1)))) return -1;
    return lastIpv6Byte(address.substring(1, close));
  }
  const colon = address.indexOf(":");
  if (colon < 0) return lastIpv4Byte(address);
  // One colon separates an IPv4 address from its port; more mean a bare IPv6 address.
  if (address.indexOf(":", colon + 1) < 0) {
    return isPort(address.substring(colon + 1)) ? lastIpv4Byte(address.substring(0, colon)) : -1;
  }
  return lastIpv6Byte(address);
}

function isDecimal(text: string, maxDigits: i32): bool {
  if (text.length == 0 || text.length > maxDigits) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function isPort(text: string): bool {
  return isDecimal(text, 5) && I32.parseInt(text) <= 65535;
}

/** Last octet of a dotted-quad IPv4 address, or -1. */
function lastIpv4Byte(text: string): i32 {
  const parts = text.split(".");
  if (parts.length != 4) return -1;
  let octet = -1;
  for (let i = 0; i < 4; i++) {
    const part = parts[i];
    // No leading zeros: "01" is ambiguous (octal in some parsers) and rejected by Rust's.
    if (!isDecimal(part, 3) || (part.length > 1 && part.charCodeAt(0) == 0x30)) return -1;
    octet = I32.parseInt(part);
    if (octet > 255) return -1;
  }
  return octet;
}

function isHexGroup(text: string): bool {
  if (text.length == 0 || text.length > 4) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) | 0x20;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** Low byte of the last 16-bit group of an IPv6 address (or the last octet of an embedded
 * IPv4 tail such as `::ffff:10.0.0.7`), or -1. */
function lastIpv6Byte(text: string): i32 {
  const gap = text.indexOf("::");
  if (gap >= 0 && text.indexOf("::", gap + 1) >= 0) return -1;
  const head = gap >= 0 ? text.substring(0, gap) : text;
  const tail = gap >= 0 ? text.substring(gap + 2) : "";
  const groups = new Array<string>();
  if (head.length > 0) {
    const parts = head.split(":");
    for (let i = 0; i < parts.length; i++) groups.push(parts[i]);
  }
  if (tail.length > 0) {
    const parts = tail.split(":");
    for (let i = 0; i < parts.length; i++) groups.push(parts[i]);
  }
  if (groups.length == 0) return gap >= 0 ? 0 : -1; // "::" is the unspecified address

  let size = 0; // in 16-bit groups
  let last = -1;
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i];
    if (i == groups.length - 1 && group.indexOf(".") >= 0) {
      last = lastIpv4Byte(group);
      if (last < 0) return -1;
      size += 2;
    } else {
      if (!isHexGroup(group)) return -1;
      last = I32.parseInt(group, 16) & 0xff;
      size += 1;
    }
  }
  if (gap >= 0 ? size > 7 : size != 8) return -1;
  // With "::" at the very end the address ends in zero groups.
  return gap >= 0 && tail.length == 0 ? 0 : last;
}

/**
 * The protobuf bytes of Envoy's SetEnvoyFilterStateArguments {path = 1, value = 2, span = 3}.
 * The span is FilterChain (0), which proto3 leaves out.
 */
function filterStateArguments(path: string, value: string): ArrayBuffer {
  const pathBytes = String.UTF8.encode(path);
  const valueBytes = String.UTF8.encode(value);
  const out = new Uint8Array(2 + varintSize(pathBytes.byteLength) + pathBytes.byteLength
    + varintSize(valueBytes.byteLength) + valueBytes.byteLength);
  let at = writeField(out, 0, 0x0a, pathBytes); // field 1, length-delimited
  writeField(out, at, 0x12, valueBytes); // field 2, length-delimited
  return out.buffer;
}

function varintSize(value: i32): i32 {
  let size = 1;
  while ((value >>>= 7) != 0) size++;
  return size;
}

function writeField(out: Uint8Array, at: i32, tag: u8, bytes: ArrayBuffer): i32 {
  out[at++] = tag;
  let length = bytes.byteLength;
  while (length >= 0x80) {
    out[at++] = <u8>(length | 0x80);
    length >>>= 7;
  }
  out[at++] = <u8>length;
  memory.copy(out.dataStart + at, changetype<usize>(bytes), bytes.byteLength);
  return at + bytes.byteLength;
}

registerRoot("", (contextId: u32): RootContext => new TcpRoutingRoot(contextId));
