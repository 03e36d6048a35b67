// http_headers_rs: logs every request and response header, answers `/hello` itself and logs the
// end of each stream. The Rust SDK's http_headers example. No configuration.
import {
  RootContext, HttpContext, FilterHeadersStatus, Header, registerHttpFilter, sendLocalResponse, log,
} from "proxy-wasm-as/assembly";

export * from "proxy-wasm-as/assembly/exports";

class HelloHeaders extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const headers = this.requestHeaders.getAll();
    for (let i = 0; i < headers.length; i++) {
      log.info(`#${this.id} -> ${headers[i].key}: ${headers[i].value}`);
    }

    const path = this.requestHeaders.get(":path");
    if (path !== null && path == "/hello") {
      const responseHeaders = [Header.of("Hello", "World"), Header.of("Powered-By", "proxy-wasm")];
      sendLocalResponse(200, "Hello, World!\n", responseHeaders);
      // The local response overrides any return value; Pause states the intent.
      return FilterHeadersStatus.StopIteration;
    }
    return FilterHeadersStatus.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const headers = this.responseHeaders.getAll();
    for (let i = 0; i < headers.length; i++) {
      log.info(`#${this.id} <- ${headers[i].key}: ${headers[i].value}`);
    }
    return FilterHeadersStatus.Continue;
  }

  onLog(): void {
    log.info(`#${this.id} completed.`);
  }
}

registerHttpFilter("", (contextId: u32, root: RootContext): HttpContext => new HelloHeaders(contextId, root));
