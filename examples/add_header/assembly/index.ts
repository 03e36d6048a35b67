// add_header: adds a configured header, rewrites `location` and adds `hello: world!` to every
// response. Plugin configuration: {"name": "<header>", "value": "<value>"} (optional).
import {
  RootContext, HttpContext, FilterHeadersStatus, registerDefaultRoot, parseJson, log,
} from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

class AddHeaderRoot extends RootContext {
  headerName: string = "";
  headerValue: string = "";

  onConfigure(pluginConfigurationSize: u32): bool {
    // No configuration is fine: the filter then only does its fixed rewrites.
    if (pluginConfigurationSize == 0) return true;
    const config = parseJson(this.pluginConfiguration());
    if (config !== null) {
      const name = config.getString("name");
      const value = config.getString("value");
      if (name !== null && value !== null) {
        this.headerName = name;
        this.headerValue = value;
        return true;
      }
    }
    log.error('add_header: configuration must be {"name": "<header>", "value": "<value>"}');
    return false;
  }

  createHttpContext(contextId: u32): HttpContext {
    return new AddHeader(contextId, this);
  }
}

class AddHeader extends HttpContext {
  constructor(id: u32, private readonly config: AddHeaderRoot) {
    super(id, config);
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const headers = this.responseHeaders;
    if (this.config.headerName.length > 0) headers.add(this.config.headerName, this.config.headerValue);
    headers.replace("location", "envoy-wasm");
    headers.add("hello", "world!");
    return FilterHeadersStatus.Continue;
  }
}

// One plugin per module: this root serves every root_id.
registerDefaultRoot((contextId: u32): RootContext => new AddHeaderRoot(contextId));
