// http_body_rs: redacts a response body that mentions "secret". The Rust SDK's http_body example.
// No configuration.
import {
  RootContext, HttpContext, FilterHeadersStatus, FilterDataStatus, registerHttpFilter,
} from "proxy-wasm-as/assembly";

export * from "proxy-wasm-as/assembly/exports";

class RedactSecrets extends HttpContext {
  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    // The body may change length, and Envoy never fixes content-length for a filter:
    // drop it now, before the headers leave, so the client reads until the stream ends.
    this.responseHeaders.remove("content-length");
    return FilterHeadersStatus.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    // Buffer until the last chunk: "secret" could straddle two chunks. Once buffering,
    // bodySize is the size of everything received so far.
    if (!endOfStream) return FilterDataStatus.StopIterationAndBuffer;

    const body = this.responseBody.text(0, bodySize);
    if (body.includes("secret")) {
      this.responseBody.replaceText(`Original message body (${bodySize} bytes) redacted.\n`);
    }
    return FilterDataStatus.Continue;
  }
}

registerHttpFilter("", (contextId: u32, root: RootContext): HttpContext => new RedactSecrets(contextId, root));
