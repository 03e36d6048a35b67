// add_header: adds a configured header, rewrites `location` and adds `hello: world!` to every
// response. Plugin configuration (optional): {"name": "<header>", "value": "<value>"}.
import {
  RootContext, HttpContext, FilterHeadersStatus, registerDefaultRoot, parseConfig, configError, log,
} from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

/** The header add_header adds to every response. */
// @ts-ignore: decorator
@pluginConfig
class AddHeaderConfig {
  /** Name of the header to add to every response; none is added when empty. */
  name: string = "";
  /** Its value. */
  value: string = "";
}

class AddHeaderRoot extends RootContext {
  headerName: string = "";
  headerValue: string = "";

  onConfigure(pluginConfigurationSize: u32): bool {
    // No configuration reads as {}: the filter then only does its fixed rewrites.
    const config = parseConfig<AddHeaderConfig>(this.pluginConfiguration());
    if (config === null) {
      // Envoy's log line already names the plugin (`wasm log add_header ...: <message>`), so the
      // message is logged as it is: no string concatenation in the module (113 bytes).
      log.error(configError());
      return false;
    }
    this.headerName = config.name;
    this.headerValue = config.value;
    return true;
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
