// helloworld: the smallest plugin with a timer. Logs a greeting when the plugin starts, then
// every second the current time and a pseudo-random number.
import {
  RootContext, HttpContext, WasmResult, registerRoot, currentTimeNanoseconds, log,
} from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

const TICK_MILLISECONDS: u32 = 1000;

// SplitMix64's output function. Math.random would import a seed from the host that Envoy does
// not provide; scrambling the clock is random enough for a demo (not for anything secret).
function scramble(seed: u64): u64 {
  let z = seed + 0x9E3779B97F4A7C15;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
  return z ^ (z >> 31);
}

class HelloWorld extends RootContext {
  onConfigure(pluginConfigurationSize: u32): bool {
    log.info("OnPluginStart from AssemblyScript!");
    if (this.setTickPeriod(TICK_MILLISECONDS) != WasmResult.Ok) {
      log.critical("failed to set tick period: " + TICK_MILLISECONDS.toString());
      return false;
    }
    return true;
  }

  onTick(): void {
    const now = currentTimeNanoseconds();
    log.info("It's " + now.toString() + ": random value: " + scramble(now).toString());
    log.info("OnTick called");
  }

  // Envoy creates a context per HTTP stream even for a plugin that only ticks: let them pass.
  createHttpContext(contextId: u32): HttpContext {
    return new HttpContext(contextId, this);
  }
}

registerRoot("", (contextId: u32): RootContext => new HelloWorld(contextId));
