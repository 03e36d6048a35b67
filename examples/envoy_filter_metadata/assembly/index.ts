// envoy_filter_metadata: answers directly with a value that an earlier filter in the chain (a
// Lua filter, in the README's Envoy config) stored as dynamic metadata on the stream.
import {
  RootContext, HttpContext, FilterHeadersStatus, Header, getProperty, sendLocalResponse,
  registerHttpFilter,
} from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

// Dynamic metadata lives under `metadata`, keyed by the namespace of the filter that wrote it.
const METADATA_PATH = ["metadata", "filter_metadata", "envoy.filters.http.lua", "uppercased-custom-metadata"];

class MetadataResponder extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const raw = getProperty(METADATA_PATH);
    if (raw === null) return FilterHeadersStatus.Continue;
    // The value is echoed into a header and a text body, so it must be text.
    if (!isUtf8(raw)) return FilterHeadersStatus.Continue;
    const data = String.UTF8.decode(raw);

    const headers = [Header.of("Powered-By", "proxy-wasm"), Header.of("uppercased-metadata", data)];
    sendLocalResponse(200, 'Custom response with Envoy metadata: "' + data + '"\n', headers);
    return FilterHeadersStatus.StopIteration;
  }
}

/** True if `bytes` is well-formed UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF). String.UTF8.decode does not reject bad input (it stops at it), hence this check. */
function isUtf8(bytes: ArrayBuffer): bool {
  const base = changetype<usize>(bytes);
  const end = bytes.byteLength;
  let i = 0;
  while (i < end) {
    const lead = <u32>load<u8>(base + i);
    let extra = 0;
    let min: u32 = 0;
    if (lead < 0x80) {
      i++;
      continue;
    } else if ((lead & 0xe0) == 0xc0) {
      extra = 1; min = 0x80;
    } else if ((lead & 0xf0) == 0xe0) {
      extra = 2; min = 0x800;
    } else if ((lead & 0xf8) == 0xf0) {
      extra = 3; min = 0x10000;
    } else {
      return false;
    }
    if (i + extra >= end) return false;
    let code = lead & (0x3f >> extra);
    for (let k = 1; k <= extra; k++) {
      const next = <u32>load<u8>(base + i + k);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

registerHttpFilter("", (contextId: u32, root: RootContext): HttpContext => new MetadataResponder(contextId, root));
