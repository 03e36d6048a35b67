// envoy_filter_metadata: answers directly with a value that an earlier filter in the chain (a
// Lua filter, in the README's Envoy config) stored as dynamic metadata on the stream.
import {
  RootContext, HttpContext, FilterHeadersStatus, Header, getProperty, sendLocalResponse,
  registerHttpFilter, isValidUtf8,
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
    if (!isValidUtf8(raw)) return FilterHeadersStatus.Continue;
    const data = String.UTF8.decode(raw);

    const headers = [Header.of("Powered-By", "proxy-wasm"), Header.of("uppercased-metadata", data)];
    sendLocalResponse(200, 'Custom response with Envoy metadata: "' + data + '"\n', headers);
    return FilterHeadersStatus.StopIteration;
  }
}

registerHttpFilter("", (contextId: u32, root: RootContext): HttpContext => new MetadataResponder(contextId, root));
