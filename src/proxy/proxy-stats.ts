/**
 * The proxy's own counters plus the filters' metrics, rendered as Envoy's admin endpoint renders
 * them: `/stats` as `name: value` lines sorted by name, `/stats/prometheus` in the Prometheus text
 * format with Envoy's naming (`envoy_` prefix and tag extraction for proxy stats; Wasm custom
 * metrics `wasmcustom.<name>` exported as `<name>` with no prefix, ABI §5.13).
 */

export type MetricKind = "counter" | "gauge" | "histogram";

/** One metric reading from a filter VM (names as Envoy stores them, e.g. `wasmcustom.hits`). */
export interface MetricSample {
  name: string;
  kind: MetricKind;
  /** Counter/gauge value. */
  value: number;
  /** Recorded histogram samples (only for histograms). */
  samples?: readonly number[];
}

/** Returns the current metrics of some filter VMs; polled when stats are rendered. */
export type MetricSource = () => readonly MetricSample[];

/** Envoy's default histogram bucket bounds. */
const BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
const QUANTILES = [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100];

export class ProxyStats {
  private readonly counters: Map<string, number>;
  private readonly gauges: Map<string, number>;
  private readonly sources: MetricSource[];
  private readonly refreshers: Array<() => Promise<void>>;

  /**
   * `httpStatPrefix` is the HCM `stat_prefix` (Envoy's examples use `ingress_http`). With
   * `storeOf`, the stats are that object's (one store for the process, as Envoy's root scope).
   */
  constructor(readonly httpStatPrefix = "ingress_http", storeOf?: ProxyStats) {
    this.counters = storeOf?.counters ?? new Map();
    this.gauges = storeOf?.gauges ?? new Map();
    this.sources = storeOf?.sources ?? [];
    this.refreshers = storeOf?.refreshers ?? [];
  }

  /**
   * The same stats with `http()` counting under `http.<prefix>.`: one HTTP connection manager's
   * scope, as each of Envoy's HCMs has its own (`http.<stat_prefix>.*`). Returns `this` for its own prefix.
   */
  withHttpPrefix(prefix: string): ProxyStats {
    return prefix === this.httpStatPrefix ? this : new ProxyStats(prefix, this);
  }

  increment(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  /** Increments `http.<stat_prefix>.<name>`. */
  http(name: string): void {
    this.increment(`http.${this.httpStatPrefix}.${name}`);
  }

  setGauge(name: string, value: number): void {
    this.gauges.set(name, value);
  }

  /** Adds `delta` (may be negative) to gauge `name`, which starts at 0. */
  adjustGauge(name: string, delta: number): void {
    this.gauges.set(name, (this.gauges.get(name) ?? 0) + delta);
  }

  /** Registers filter metrics; `remove` (the returned function) unregisters them. */
  addSource(source: MetricSource): () => void {
    this.sources.push(source);
    return () => {
      const index = this.sources.indexOf(source);
      if (index >= 0) this.sources.splice(index, 1);
    };
  }

  /**
   * Registers work that brings sources up to date (worker threads report their metrics on
   * request); `refresh` runs it before stats are rendered. The returned function unregisters it.
   */
  addRefresher(refresh: () => Promise<void>): () => void {
    this.refreshers.push(refresh);
    return () => {
      const index = this.refreshers.indexOf(refresh);
      if (index >= 0) this.refreshers.splice(index, 1);
    };
  }

  /** Resolves once every registered refresher finished. */
  async refresh(): Promise<void> {
    await Promise.all(this.refreshers.map((refresh) => refresh()));
  }

  /** Every metric, proxy and filter alike, merged by name (several VMs of one plugin add up). */
  snapshot(): MetricSample[] {
    const merged = new Map<string, MetricSample>();
    const add = (sample: MetricSample): void => {
      const known = merged.get(sample.name);
      if (known === undefined) {
        merged.set(sample.name, { ...sample, samples: sample.samples ? [...sample.samples] : undefined });
      } else if (sample.kind === "histogram") {
        known.samples = [...(known.samples ?? []), ...(sample.samples ?? [])];
      } else {
        known.value += sample.value;
      }
    };
    for (const [name, value] of this.counters) add({ name, kind: "counter", value });
    for (const [name, value] of this.gauges) add({ name, kind: "gauge", value });
    for (const source of this.sources) for (const sample of source()) add(sample);
    return [...merged.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Envoy's `/stats` text; `filter` is the `?filter=` regex when given. */
  renderText(filter?: RegExp): string {
    const lines: string[] = [];
    for (const sample of this.snapshot()) {
      if (filter && !filter.test(sample.name)) continue;
      if (sample.kind !== "histogram") lines.push(`${sample.name}: ${sample.value}`);
      else lines.push(`${sample.name}: ${histogramSummary(sample.samples ?? [])}`);
    }
    return lines.map((line) => `${line}\n`).join("");
  }

  /** Envoy's `/stats/prometheus` text. */
  renderPrometheus(): string {
    const byName = new Map<string, { kind: MetricKind; series: string[] }>();
    for (const sample of this.snapshot()) {
      const { name, labels } = prometheusName(sample.name);
      const family = byName.get(name) ?? { kind: sample.kind, series: [] };
      byName.set(name, family);
      const labelText = (extra: string[] = []): string => `{${[...labels, ...extra].join(",")}}`;
      if (sample.kind !== "histogram") {
        family.series.push(`${name}${labelText()} ${sample.value}`);
        continue;
      }
      const samples = sample.samples ?? [];
      for (const bound of BUCKETS) {
        const count = samples.filter((v) => v <= bound).length;
        family.series.push(`${name}_bucket${labelText([`le="${bound}"`])} ${count}`);
      }
      family.series.push(`${name}_bucket${labelText(['le="+Inf"'])} ${samples.length}`);
      family.series.push(`${name}_sum${labelText()} ${samples.reduce((a, b) => a + b, 0)}`);
      family.series.push(`${name}_count${labelText()} ${samples.length}`);
    }
    let out = "";
    for (const [name, family] of [...byName].sort(([a], [b]) => (a < b ? -1 : 1))) {
      out += `# TYPE ${name} ${family.kind}\n${family.series.join("\n")}\n`;
    }
    return out;
  }
}

/**
 * Envoy's Prometheus name for a stat: custom Wasm metrics lose `wasmcustom.` and get no prefix;
 * others get `envoy_`, with the cluster name and HCM prefix extracted into labels as Envoy's
 * default tag extractors do. Characters outside `[a-zA-Z0-9_]` become `_`.
 */
export function prometheusName(stat: string): { name: string; labels: string[] } {
  const sanitize = (text: string): string => text.replace(/[^a-zA-Z0-9_]/g, "_");
  if (stat.startsWith("wasmcustom.")) return { name: sanitize(stat.slice("wasmcustom.".length)), labels: [] };
  const cluster = /^cluster\.([^.]+)\.(.+)$/.exec(stat);
  if (cluster) return withCodeTags("envoy_cluster_", cluster[2], `envoy_cluster_name="${cluster[1]}"`);
  const http = /^http\.([^.]+)\.(.+)$/.exec(stat);
  if (http) return withCodeTags("envoy_http_", http[2], `envoy_http_conn_manager_prefix="${http[1]}"`);
  return { name: `envoy_${sanitize(stat)}`, labels: [] };
}

/**
 * Envoy's response code tag extractors (envoy source/common/config/well_known_names.cc):
 * `..._rq_200` becomes `..._rq` with `envoy_response_code="200"`, `..._rq_2xx` becomes
 * `..._rq_xx` with `envoy_response_code_class="2"`; the extracted tag comes before the scope's.
 */
function withCodeTags(prefix: string, rest: string, scopeLabel: string): { name: string; labels: string[] } {
  const sanitize = (text: string): string => text.replace(/[^a-zA-Z0-9_]/g, "_");
  const code = /^(.*_rq)_(\d{3})$/.exec(rest);
  if (code) return { name: prefix + sanitize(code[1]), labels: [`envoy_response_code="${code[2]}"`, scopeLabel] };
  const group = /^(.*_rq)_(\d)xx$/.exec(rest);
  if (group) return { name: `${prefix}${sanitize(group[1])}_xx`, labels: [`envoy_response_code_class="${group[2]}"`, scopeLabel] };
  return { name: prefix + sanitize(rest), labels: [scopeLabel] };
}

/** Envoy's histogram line: `No recorded values`, or `P0(v,v) P25(v,v) ...` (interval, cumulative). */
function histogramSummary(samples: readonly number[]): string {
  if (samples.length === 0) return "No recorded values";
  const sorted = [...samples].sort((a, b) => a - b);
  return QUANTILES.map((q) => {
    const value = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1))];
    return `P${q}(${value},${value})`;
  }).join(" ");
}
