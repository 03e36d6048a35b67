// http_routing: sends about half of the requests to a canary by renaming their authority
// `<authority>-canary`, which the proxy's route table maps to the canary cluster.
// Plugin configuration (optional, for tests and demos): its first byte replaces the dice roll,
// so an even byte always routes to the canary and an odd one never does.
import {
  RootContext, HttpContext, FilterHeadersStatus, WasmResult, registerRoot, currentTimeNanoseconds,
  callForeignFunction, log,
} from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

// SplitMix64's output function. Math.random would import a seed from the host that Envoy does
// not provide; scrambling the clock is random enough to split traffic.
function scramble(seed: u64): u64 {
  let z = seed + 0x9E3779B97F4A7C15;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
  return z ^ (z >> 31);
}

class RoutingRoot extends RootContext {
  hasDiceOverride: bool = false;
  diceOverride: u32 = 0;

  onConfigure(pluginConfigurationSize: u32): bool {
    const config = this.pluginConfiguration();
    this.hasDiceOverride = config.byteLength > 0;
    if (this.hasDiceOverride) this.diceOverride = load<u8>(changetype<usize>(config));
    return true;
  }

  dice(): u32 {
    return this.hasDiceOverride ? this.diceOverride : <u32>scramble(currentTimeNanoseconds());
  }

  createHttpContext(contextId: u32): HttpContext {
    return new CanaryRouter(contextId, this);
  }
}

class CanaryRouter extends HttpContext {
  constructor(id: u32, private readonly config: RoutingRoot) {
    super(id, config);
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const value = this.config.dice();
    log.info("value: " + value.toString());
    if (value % 2 == 0) {
      const authority = this.requestHeaders.get(":authority");
      if (authority === null) {
        log.error("failed to get the :authority request header");
      } else if (this.requestHeaders.replace(":authority", authority + "-canary") != WasmResult.Ok) {
        log.critical("failed to set the :authority request header");
      } else {
        // Envoy 1.33+ no longer re-routes after a header change by itself: the route is only
        // picked again once the route cache is cleared. Older Envoys re-route anyway and lack
        // the function, so its NotFound is fine to ignore.
        callForeignFunction("clear_route_cache");
      }
    }
    return FilterHeadersStatus.Continue;
  }
}

registerRoot("", (contextId: u32): RootContext => new RoutingRoot(contextId));
