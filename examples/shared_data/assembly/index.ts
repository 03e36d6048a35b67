// shared_data: a request counter kept in the host's shared key-value store, which every VM with
// the same vm_id (one per worker thread in Envoy) reads and writes. Compare-and-swap keeps
// concurrent increments from different workers from overwriting each other.
import {
  RootContext, HttpContext, FilterHeadersStatus, WasmResult, getSharedData, setSharedData, lastResult,
  log, registerRoot,
} from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

const KEY = "shared_data_key";

class SharedDataRoot extends RootContext {
  onVmStart(vmConfigurationSize: u32): bool {
    // An empty value means "no request counted yet". CAS 0 writes unconditionally.
    const status = setSharedData(KEY, new ArrayBuffer(0), 0);
    if (status != WasmResult.Ok) log.warn("error setting shared data on VM start: WasmResult " + (<i32>status).toString());
    return true;
  }

  createHttpContext(contextId: u32): HttpContext {
    return new RequestCounter(contextId, this);
  }
}

class RequestCounter extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    for (;;) {
      const current = getSharedData(KEY);
      if (current === null) {
        log.warn("error getting shared data: WasmResult " + (<i32>lastResult()).toString());
        return FilterHeadersStatus.Continue;
      }
      // The counter is stored as a little-endian u64.
      const count: u64 = current.value.byteLength >= 8 ? load<u64>(changetype<usize>(current.value)) + 1 : 1;
      const next = new ArrayBuffer(8);
      store<u64>(changetype<usize>(next), count);

      const status = setSharedData(KEY, next, current.cas);
      // Another VM wrote in between: read its value and try again.
      if (status == WasmResult.CasMismatch) continue;
      if (status != WasmResult.Ok) {
        log.warn("error setting shared data: WasmResult " + (<i32>status).toString());
        return FilterHeadersStatus.Continue;
      }
      log.info("shared value: " + count.toString());
      return FilterHeadersStatus.Continue;
    }
  }
}

registerRoot("", (contextId: u32): RootContext => new SharedDataRoot(contextId));
