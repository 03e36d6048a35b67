// foreign_call_on_tick: calls the host's `compress` foreign function on every tick and logs the
// result in hex. The Go SDK's foreign_call_on_tick example. No configuration.
import {
  RootContext, WasmResult, registerRoot, callForeignFunction, lastResult, log,
} from "proxy-wasm-as/assembly";

export * from "proxy-wasm-as/assembly/exports";

const TICK_MS: u32 = 1;

function toHex(data: ArrayBuffer): string {
  const bytes = Uint8Array.wrap(data);
  let hex = "";
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte < 16) hex += "0";
    hex += byte.toString(16);
  }
  return hex;
}

class ForeignCallOnTick extends RootContext {
  private calls: u32 = 0;

  onConfigure(pluginConfigurationSize: u32): bool {
    if (this.setTickPeriod(TICK_MS) != WasmResult.Ok) {
      log.critical(`failed to set tick period: ${TICK_MS} ms`);
      return false;
    }
    return true;
  }

  onTick(): void {
    this.calls++;
    // Foreign functions are host extensions looked up by name; Envoy's `compress` is zlib.
    const result = callForeignFunction("compress", String.UTF8.encode("hello world!"));
    if (result === null) {
      log.critical(`foreign function (compress) failed: ${lastResult()}`);
      return;
    }
    log.info(`foreign function (compress) called: ${this.calls}, result: ${toHex(result)}`);
  }
}

registerRoot("", (contextId: u32): RootContext => new ForeignCallOnTick(contextId));
