// http_config: adds `custom-header: <plugin configuration>` to every response. The whole
// plugin configuration is the header value (plain text, not JSON).
import {
  RootContext, HttpContext, FilterHeadersStatus, registerRoot, log,
} from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

class HeaderConfigRoot extends RootContext {
  headerContent: string = "";

  onConfigure(pluginConfigurationSize: u32): bool {
    const content = this.pluginConfigurationText();
    // The SDK decodes invalid UTF-8 to "": a non-empty configuration that decodes to nothing
    // cannot be a header value, so reject it instead of silently sending an empty header.
    if (pluginConfigurationSize > 0 && content.length == 0) {
      log.error("http_config: the plugin configuration must be UTF-8 text");
      return false;
    }
    this.headerContent = content;
    return true;
  }

  createHttpContext(contextId: u32): HttpContext | null {
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
