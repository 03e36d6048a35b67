import { MetricType, WasmResult } from "../abi/enums";
import * as host from "../runtime/hostcalls";
import { OUT_U32, OUT_U64, stageText, stagedLength } from "../runtime/memory";

/**
 * A counter, gauge or histogram. Create it once (e.g. a field of the root context, or a
 * module-level constant); it is defined with the host at first use, because
 * proxy_define_metric is not allowed during module start. Envoy names it `wasmcustom.<name>`.
 */
export class Metric {
  private id: u32 = 0;

  constructor(
    /** Counter, gauge or histogram. */
    public readonly type: MetricType,
    /** The name given to the host (Envoy shows `wasmcustom.<name>`). */
    public readonly name: string,
  ) {}

  /** A counter named `name` (defined with the host at first use; legal anywhere). */
  static counter(name: string): Metric { return new Metric(MetricType.Counter, name); }
  /** A gauge named `name` (defined with the host at first use; legal anywhere). */
  static gauge(name: string): Metric { return new Metric(MetricType.Gauge, name); }
  /** A histogram named `name` (defined with the host at first use; legal anywhere). */
  static histogram(name: string): Metric { return new Metric(MetricType.Histogram, name); }

  /** The host's id, defining the metric on first use; 0 if the host refused. */
  get metricId(): u32 {
    if (this.id == 0) {
      const namePtr = stageText(0, changetype<usize>(this.name));
      if (host.defineMetric(this.type, namePtr, stagedLength(0)) == WasmResult.Ok) this.id = load<u32>(OUT_U32);
    }
    return this.id;
  }

  /** Adds `offset` (counters: must be > 0, else BadArgument; gauges: may be negative).
   * BadArgument for histograms. */
  increment(offset: i64 = 1): WasmResult {
    return host.incrementMetric(this.metricId, offset);
  }

  /** Counters: adds `value`; gauges: sets it; histograms: records a sample. */
  record(value: u64): WasmResult {
    return host.recordMetric(this.metricId, value);
  }

  /** Current value of a counter or gauge; 0 on failure (histograms: BadArgument). */
  get(): u64 {
    return host.getMetric(this.metricId) == WasmResult.Ok ? load<u64>(OUT_U64) : 0;
  }
}
