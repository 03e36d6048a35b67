// postpone_requests: holds every request until the next tick of its plugin, then resumes it.
// The Go SDK's postpone_requests example. No configuration.
import {
  RootContext, HttpContext, FilterHeadersStatus, WasmResult, registerRoot, setEffectiveContext, continueRequest,
  log,
} from "proxy-wasm-as/assembly";

export * from "proxy-wasm-as/assembly/exports";

const TICK_MS: u32 = 1000;

class PostponeRoot extends RootContext {
  /** Streams paused since the last tick. */
  postponed: Array<u32> = new Array<u32>();

  onConfigure(pluginConfigurationSize: u32): bool {
    if (this.setTickPeriod(TICK_MS) != WasmResult.Ok) {
      log.critical(`failed to set tick period: ${TICK_MS} ms`);
      return false;
    }
    return true;
  }

  onTick(): void {
    for (let i = 0; i < this.postponed.length; i++) {
      const id = this.postponed[i];
      log.info(`resume request with contextID=${id}`);
      // A tick runs on the root context: make the stream effective so continueRequest
      // resumes that stream. A stream that is gone by now is BadArgument: nothing to resume.
      if (setEffectiveContext(id) == WasmResult.Ok) continueRequest();
    }
    this.postponed = new Array<u32>();
  }

  createHttpContext(contextId: u32): HttpContext {
    return new PostponedRequest(contextId, this);
  }
}

class PostponedRequest extends HttpContext {
  constructor(id: u32, private readonly plugin: PostponeRoot) {
    super(id, plugin);
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    log.info(`postpone request with contextID=${this.id}`);
    this.plugin.postponed.push(this.id);
    return FilterHeadersStatus.StopIteration;
  }
}

registerRoot("", (contextId: u32): RootContext => new PostponeRoot(contextId));
