// multiple_dispatches: holds each response until ten callouts made for it are all answered.
// The Go SDK's multiple_dispatches example. No configuration.
import {
  RootContext, HttpContext, HttpCallResponse, FilterHeadersStatus, Header, registerHttpFilter,
  httpCall, continueResponse, lastResult, log,
} from "proxy-wasm-as/assembly";

export * from "proxy-wasm-as/assembly/exports";

const TOTAL_DISPATCHES = 10;

class MultipleDispatches extends HttpContext {
  private pending: i32 = 0;

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    // Envoy requires :authority to be present; an empty value is enough for this demo.
    const headers = [Header.of(":path", "/"), Header.of(":method", "GET"), Header.of(":authority", "")];
    for (let i = 0; i < TOTAL_DISPATCHES; i++) {
      if (httpCall(this, "httpbin", headers, null, null, 50_000) == 0) {
        log.critical(`dispatch httpcall failed: ${lastResult()}`);
        continue;
      }
      this.pending++;
    }
    // Nothing to wait for: don't hold the response forever.
    if (this.pending == 0) return FilterHeadersStatus.Continue;
    return FilterHeadersStatus.StopIteration;
  }

  onHttpCallResponse(token: u32, response: HttpCallResponse): void {
    this.pending--;
    if (this.pending > 0) {
      log.info(`pending dispatched requests: ${this.pending}`);
      return;
    }
    // The response is still paused, so its headers are writable here.
    this.responseHeaders.add("total-dispatched", TOTAL_DISPATCHES.toString());
    continueResponse();
    log.info(`response resumed after processed ${TOTAL_DISPATCHES} dispatched request`);
  }
}

registerHttpFilter("", (contextId: u32, root: RootContext): HttpContext => new MultipleDispatches(contextId, root));
