// http_headers: sets `test: best` on every request, logs the request and response headers,
// and adds `x-proxy-wasm-as-example: http_headers` plus an optional configured header to every
// response. Plugin configuration (optional): {"header": "<name>", "value": "<value>"}.
import {
  RootContext, HttpContext, FilterHeadersStatus, WasmResult, registerRoot, parseConfig, configError, log,
} from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

/** The header http_headers adds to every response. */
// @ts-ignore: decorator
@pluginConfig
class HeadersConfig {
  /** Name of the header; must not be empty. */
  header!: string;
  /** Its value; must not be empty. */
  value!: string;
}

class HeadersRoot extends RootContext {
  headerName: string = "";
  headerValue: string = "";

  onConfigure(pluginConfigurationSize: u32): bool {
    log.debug("loading plugin config");
    if (pluginConfigurationSize == 0) return true;

    // Returning false makes Envoy refuse the configuration, so say what is wrong with it.
    const config = parseConfig<HeadersConfig>(this.pluginConfiguration());
    if (config === null) {
      log.critical("invalid configuration: " + configError());
      return false;
    }
    if (config.header.length == 0 || config.value.length == 0) {
      log.critical("invalid configuration: header and value must not be empty");
      return false;
    }
    this.headerName = config.header;
    this.headerValue = config.value;
    log.info("header from config: " + config.header + " = " + config.value);
    return true;
  }

  createHttpContext(contextId: u32): HttpContext {
    return new HeadersFilter(contextId, this);
  }
}

class HeadersFilter extends HttpContext {
  constructor(id: u32, private readonly config: HeadersRoot) {
    super(id, config);
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    if (this.requestHeaders.replace("test", "best") != WasmResult.Ok) {
      log.critical("failed to set request header: test");
    }
    const headers = this.requestHeaders.getAll();
    for (let i = 0; i < headers.length; i++) {
      log.info("request header --> " + headers[i].key + ": " + headers[i].value);
    }
    return FilterHeadersStatus.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const headers = this.responseHeaders;
    const name = this.config.headerName;
    if (name.length > 0) {
      log.info("adding header: " + name + "=" + this.config.headerValue);
      headers.add(name, this.config.headerValue);
    }
    headers.add("x-proxy-wasm-as-example", "http_headers");

    // Read back after adding, so the log shows what leaves the proxy.
    const all = headers.getAll();
    for (let i = 0; i < all.length; i++) {
      log.info("response header <-- " + all[i].key + ": " + all[i].value);
    }
    return FilterHeadersStatus.Continue;
  }

  // Access-log time: the last callback of every stream, also for streams ended by a reset.
  onLog(): void {
    log.info(this.id.toString() + " finished");
  }
}

registerRoot("", (contextId: u32): RootContext => new HeadersRoot(contextId));
