// http_headers: sets `test: best` on every request, logs the request and response headers,
// and adds `x-proxy-wasm-as-example: http_headers` plus an optional configured header to every
// response. Plugin configuration (optional): {"header": "<name>", "value": "<value>"}.
import {
  RootContext, HttpContext, FilterHeadersStatus, WasmResult, registerRoot, parseJson, log,
} from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

class HeadersRoot extends RootContext {
  headerName: string = "";
  headerValue: string = "";

  onConfigure(pluginConfigurationSize: u32): bool {
    log.debug("loading plugin config");
    if (pluginConfigurationSize == 0) return true;

    const config = parseJson(this.pluginConfiguration());
    if (config !== null) {
      const name = config.getString("header");
      const value = config.getString("value");
      if (name !== null && value !== null && name.length > 0 && value.length > 0) {
        this.headerName = name;
        this.headerValue = value;
        log.info("header from config: " + name + " = " + value);
        return true;
      }
    }
    // Returning false makes Envoy refuse the configuration, so say what it should look like.
    log.critical('invalid configuration format; expected {"header": "<header name>", "value": "<header value>"}');
    return false;
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
