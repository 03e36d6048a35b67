/**
 * The stats store behind `proxy_define_metric` and friends (reference §5.13). Names are stored with
 * Envoy's `wasmcustom.` prefix; ids are handed out per VM by the metrics hostcalls.
 */
import { MetricType } from "./constants";

export type MetricKind = "counter" | "gauge" | "histogram";

export interface Metric {
  readonly name: string;
  readonly kind: MetricKind;
  /** Counter total or gauge value; unused for histograms. */
  value: bigint;
  /** Recorded histogram samples, in order. */
  readonly samples: bigint[];
}

export const METRIC_NAMESPACE = "wasmcustom.";

export function metricKindOf(type: number): MetricKind | undefined {
  return type === MetricType.Counter ? "counter" : type === MetricType.Gauge ? "gauge" : type === MetricType.Histogram ? "histogram" : undefined;
}

export class MetricStore {
  private readonly metrics = new Map<string, Metric>();

  /** Creates or re-uses the stat `wasmcustom.<name>`. */
  define(name: string, kind: MetricKind): Metric {
    const fullName = METRIC_NAMESPACE + name;
    let metric = this.metrics.get(fullName);
    if (metric === undefined || metric.kind !== kind) {
      metric = { name: fullName, kind, value: 0n, samples: [] };
      this.metrics.set(fullName, metric);
    }
    return metric;
  }

  /** Looks a metric up by the name the plugin used, or by its full `wasmcustom.` name. */
  get(name: string): Metric | undefined {
    return this.metrics.get(name) ?? this.metrics.get(METRIC_NAMESPACE + name);
  }

  all(): readonly Metric[] {
    return [...this.metrics.values()];
  }
}
