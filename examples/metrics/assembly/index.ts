// metrics: counts requests per value of the `my-custom-header` request header, one counter per
// value, with the value and the reporter encoded in the counter's name.
import {
  RootContext, HttpContext, FilterHeadersStatus, Metric, registerRoot,
} from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

const HEADER = "my-custom-header";

// Envoy has no tags in the Wasm metric ABI: the tags are spelled into the name, and the
// `stats_tags` regexes in the README's Envoy config turn them back into Prometheus labels.
function counterName(value: string): string {
  return "custom_header_value_counts_value=" + value + "_reporter=proxywasmas";
}

class MetricsRoot extends RootContext {
  // Envoy hands out a new metric id each time a name is defined, so each counter is created
  // once per VM, for the first request carrying its value, and reused by every later stream.
  private readonly counters: Map<string, Metric> = new Map();

  counterFor(value: string): Metric {
    if (this.counters.has(value)) return this.counters.get(value);
    const counter = Metric.counter(counterName(value));
    this.counters.set(value, counter);
    return counter;
  }

  createHttpContext(contextId: u32): HttpContext {
    return new HeaderValueCounter(contextId, this);
  }
}

class HeaderValueCounter extends HttpContext {
  constructor(id: u32, private readonly metrics: MetricsRoot) {
    super(id, metrics);
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const value = this.requestHeaders.get(HEADER);
    if (value !== null) this.metrics.counterFor(value).increment(1);
    return FilterHeadersStatus.Continue;
  }
}

registerRoot("", (contextId: u32): RootContext => new MetricsRoot(contextId));
