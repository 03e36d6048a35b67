// dispatch_call_on_tick: every 100 ms, each plugin sends an HTTP callout to `web_service` for a
// random path, and logs the answer. The Go SDK's dispatch_call_on_tick example. No configuration.
import {
  RootContext, HttpCallResponse, Header, WasmResult, registerRoot, httpCall, currentTimeNanoseconds,
  lastResult, log,
} from "proxy-wasm-as/assembly";

export * from "proxy-wasm-as/assembly/exports";

const TICK_MS: u32 = 100;

/**
 * One pseudo-random bit from the host clock. `Math.random` would import `env.seed`, which Envoy
 * does not provide; the clock's low bits are often zero, so they are mixed first (the
 * SplitMix64 finalizer) to make every bit depend on all of them.
 */
function randomBit(): bool {
  let x = currentTimeNanoseconds();
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  x = x ^ (x >> 31);
  return (x & 1) == 1;
}

class DispatchOnTick extends RootContext {
  private answers: u32 = 0;

  onConfigure(pluginConfigurationSize: u32): bool {
    if (this.setTickPeriod(TICK_MS) != WasmResult.Ok) {
      log.critical(`failed to set tick period: ${TICK_MS}`);
      return false;
    }
    log.info(`set tick period milliseconds: ${TICK_MS}`);
    return true;
  }

  onTick(): void {
    const headers = [
      Header.of(":method", "GET"),
      Header.of(":authority", "some_authority"),
      Header.of("accept", "*/*"),
      Header.of(":path", randomBit() ? "/fail" : "/ok"),
    ];
    // A root context can call out too: the answer comes back to this root's onHttpCallResponse.
    if (httpCall(this, "web_service", headers, null, null, 5000) == 0) {
      log.critical(`dispatch httpcall failed: ${lastResult()}`);
    }
  }

  onHttpCallResponse(token: u32, response: HttpCallResponse): void {
    this.answers++;
    log.info(`called ${this.answers} for contextID=${this.id}`);
    const headers = response.headers.getAll();
    for (let i = 0; i < headers.length; i++) {
      log.info(`response header for the dispatched call: ${headers[i].key}: ${headers[i].value}`);
    }
    const trailers = response.trailers.getAll();
    for (let i = 0; i < trailers.length; i++) {
      log.info(`response trailer for the dispatched call: ${trailers[i].key}: ${trailers[i].value}`);
    }
  }
}

registerRoot("", (contextId: u32): RootContext => new DispatchOnTick(contextId));
