// http_config: adds `custom-header: <plugin configuration>` to every response. The whole
// plugin configuration is the header value (plain text, not JSON).
import {
  RootContext, HttpContext, FilterHeadersStatus, registerRoot, log, isValidUtf8,
} from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

class HeaderConfigRoot extends RootContext {
  headerContent: string = "";

  onConfigure(pluginConfigurationSize: u32): bool {
    // The SDK would decode invalid UTF-8 with U+FFFD in place of the bad bytes: reject such a
    // configuration instead of sending a header value the operator never wrote.
    if (!isValidUtf8(this.pluginConfiguration())) {
      log.error("http_config: the plugin configuration must be UTF-8 text");
      return false;
    }
    this.headerContent = this.pluginConfigurationText();
    return true;
  }

  createHttpContext(contextId: u32): HttpContext {
    return new HeaderConfigFilter(contextId, this);
  }
}

class HeaderConfigFilter extends HttpContext {
  // Each stream keeps its own copy, so a configuration update never changes a stream midway.
  private readonly headerContent: string;

  constructor(id: u32, root: HeaderConfigRoot) {
    super(id, root);
    this.headerContent = root.headerContent;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    this.responseHeaders.add("custom-header", this.headerContent);
    return FilterHeadersStatus.Continue;
  }
}

registerRoot("", (contextId: u32): RootContext => new HeaderConfigRoot(contextId));
