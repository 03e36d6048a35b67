// http_auth_random_rs: asks httpbin for one random byte per request; an even byte lets the
// request pass. The Rust SDK's http_auth_random example. No configuration.
import {
  RootContext, HttpContext, HttpCallResponse, FilterHeadersStatus, Header, registerHttpFilter,
  httpCall, continueRequest, sendLocalResponse, lastResult, log,
} from "proxy-wasm-as/assembly";

export * from "proxy-wasm-as/assembly/exports";

class RandomByteAuth extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const headers = [
      Header.of(":method", "GET"),
      Header.of(":path", "/bytes/1"),
      Header.of(":authority", "httpbin.org"),
    ];
    if (httpCall(this, "httpbin", headers, null, null, 1000) == 0) {
      // Deny rather than let an unchecked request through.
      log.error(`dispatch to httpbin failed: ${lastResult()}`);
      this.forbid();
    }
    return FilterHeadersStatus.StopIteration;
  }

  onHttpCallResponse(token: u32, response: HttpCallResponse): void {
    const body = Uint8Array.wrap(response.body());
    if (body.length > 0 && body[0] % 2 == 0) {
      log.info("Access granted.");
      continueRequest();
      return;
    }
    this.forbid();
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    this.responseHeaders.replace("Powered-By", "proxy-wasm");
    return FilterHeadersStatus.Continue;
  }

  private forbid(): void {
    log.info("Access forbidden.");
    sendLocalResponse(403, "Access forbidden.\n", [Header.of("Powered-By", "proxy-wasm")]);
  }
}

registerHttpFilter("", (contextId: u32, root: RootContext): HttpContext => new RandomByteAuth(contextId, root));
