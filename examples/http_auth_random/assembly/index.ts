// http_auth_random: asks httpbin about every request and lets the answer decide, at random,
// whether it passes. The Go SDK's http_auth_random example. No configuration.
import {
  RootContext, HttpContext, HttpCallResponse, FilterHeadersStatus, Header, registerHttpFilter,
  httpCall, continueRequest, sendLocalResponse, lastResult, log,
} from "proxy-wasm-as/assembly";

export * from "proxy-wasm-as/assembly/exports";

const AUTH_CLUSTER = "httpbin";
const AUTH_TIMEOUT_MS: u32 = 50_000;

/** FNV-1a, 32 bit: a cheap, well-known hash, so anyone can check a decision by hand. */
function fnv1a32(data: ArrayBuffer): u32 {
  let hash: u32 = 0x811c9dc5;
  const bytes = Uint8Array.wrap(data);
  for (let i = 0; i < bytes.length; i++) {
    hash = (hash ^ <u32>bytes[i]) * 0x01000193;
  }
  return hash;
}

class RandomAuth extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const headers = this.requestHeaders.getAll();
    for (let i = 0; i < headers.length; i++) {
      log.info(`request header: ${headers[i].key}: ${headers[i].value}`);
    }

    // The request's own headers (with :method, :path, :authority) make a valid callout.
    const token = httpCall(this, AUTH_CLUSTER, headers, null, null, AUTH_TIMEOUT_MS);
    if (token == 0) {
      log.critical(`dispatch httpcall failed: ${lastResult()}`);
      return FilterHeadersStatus.Continue;
    }
    log.info(`http call dispatched to ${AUTH_CLUSTER}`);
    // Held until onHttpCallResponse resumes it or answers it.
    return FilterHeadersStatus.StopIteration;
  }

  onHttpCallResponse(token: u32, response: HttpCallResponse): void {
    if (response.failed) {
      log.critical(`http call to ${AUTH_CLUSTER} failed`);
      this.forbid();
      return;
    }
    const headers = response.headers.getAll();
    for (let i = 0; i < headers.length; i++) {
      log.info(`response header from ${AUTH_CLUSTER}: ${headers[i].key}: ${headers[i].value}`);
    }

    if (fnv1a32(response.body()) % 2 == 0) {
      log.info("access granted");
      continueRequest();
      return;
    }
    log.info("access forbidden");
    this.forbid();
  }

  private forbid(): void {
    sendLocalResponse(403, "access forbidden", [Header.of("powered-by", "proxy-wasm-as!!")]);
  }
}

registerHttpFilter("", (contextId: u32, root: RootContext): HttpContext => new RandomAuth(contextId, root));
