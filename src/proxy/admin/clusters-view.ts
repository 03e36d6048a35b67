import type { ClusterConfig } from "../config/dev-proxy-config";
import type { MetricSample } from "../proxy-stats";

/**
 * Envoy's `/clusters` text (envoy source/server/admin/clusters_handler.cc `writeClustersAsText`),
 * one `<cluster>::...` line per fact: the observability name, the circuit breaker thresholds of
 * both priorities (Envoy's defaults: 1024 connections, pending and requests, 3 retries; the dev
 * proxy enforces none), `added_via_api`, then for its one host the host stats sorted by name,
 * hostname, health, weight, locality, canary, priority and success rates (-1: no outlier
 * detection). Clusters sorted by name. The host stats come from the cluster's stats, since each
 * cluster here has exactly one host.
 */
export function clustersText(clusters: Iterable<ClusterConfig>, samples: readonly MetricSample[]): string {
  const values = new Map(samples.map((sample) => [sample.name, sample.value]));
  let text = "";
  for (const cluster of sortedByName(clusters)) {
    const name = cluster.name;
    const line = (...parts: Array<string | number | boolean>): void => {
      text += `${[name, ...parts].join("::")}\n`;
    };
    line("observability_name", name);
    for (const priority of ["default", "high"]) {
      line(`${priority}_priority`, "max_connections", 1024);
      line(`${priority}_priority`, "max_pending_requests", 1024);
      line(`${priority}_priority`, "max_requests", 1024);
      line(`${priority}_priority`, "max_retries", 3);
    }
    line("added_via_api", false);
    const { address, hostname } = hostOf(cluster);
    const { counters, gauges } = hostStats(name, values);
    // Envoy merges counters and gauges into one map sorted by name.
    for (const [statName, value] of [...counters, ...gauges].sort(([a], [b]) => (a < b ? -1 : 1))) line(address, statName, value);
    line(address, "hostname", hostname);
    line(address, "health_flags", "healthy");
    line(address, "weight", 1);
    line(address, "region", "");
    line(address, "zone", "");
    line(address, "sub_zone", "");
    line(address, "canary", false);
    line(address, "priority", 0);
    line(address, "success_rate", -1);
    line(address, "local_origin_success_rate", -1);
  }
  return text;
}

/** One host's stats as Envoy keeps them (ALL_HOST_STATS, envoy envoy/upstream/host_description.h). */
function hostStats(cluster: string, values: ReadonlyMap<string, number>): { counters: Array<[string, number]>; gauges: Array<[string, number]> } {
  const stat = (name: string): number => values.get(`cluster.${cluster}.${name}`) ?? 0;
  const errors = stat("upstream_rq_5xx");
  return {
    counters: [
      ["cx_connect_fail", stat("upstream_cx_connect_fail")],
      ["cx_total", stat("upstream_cx_total")],
      ["rq_error", errors],
      ["rq_success", stat("upstream_rq_completed") - errors],
      ["rq_timeout", stat("upstream_rq_timeout")],
      ["rq_total", stat("upstream_rq_total")],
    ],
    gauges: [
      ["cx_active", stat("upstream_cx_active")],
      ["rq_active", 0],
    ],
  };
}

/**
 * `/clusters?format=json`: envoy.admin.v3.Clusters as Envoy's JSON printer writes it
 * (clusters_handler.cc `writeClustersAsJson`): fields at their default are left out, 64-bit
 * values are strings, a counter's type (the default) is omitted and a gauge says `GAUGE`.
 */
export function clustersJson(clusters: Iterable<ClusterConfig>, samples: readonly MetricSample[]): unknown {
  const values = new Map(samples.map((sample) => [sample.name, sample.value]));
  const metric = (name: string, value: number, type?: string): Record<string, unknown> => ({
    name,
    ...(value !== 0 ? { value: String(value) } : {}),
    ...(type !== undefined ? { type } : {}),
  });
  const thresholds = (priority?: string): Record<string, unknown> => ({
    ...(priority !== undefined ? { priority } : {}),
    max_connections: 1024,
    max_pending_requests: 1024,
    max_requests: 1024,
    max_retries: 3,
  });
  return {
    cluster_statuses: sortedByName(clusters).map((cluster) => {
      const { host, port, hostname } = hostOf(cluster);
      const stats = hostStats(cluster.name, values);
      return {
        name: cluster.name,
        host_statuses: [
          {
            address: { socket_address: { address: host, port_value: port } },
            stats: [...stats.counters.map(([name, value]) => metric(name, value)), ...stats.gauges.map(([name, value]) => metric(name, value, "GAUGE"))],
            health_status: { eds_health_status: "HEALTHY" },
            weight: 1,
            ...(hostname !== "" ? { hostname } : {}),
            locality: {},
          },
        ],
        circuit_breakers: { thresholds: [thresholds(), thresholds("HIGH")] },
        observability_name: cluster.name,
      };
    }),
  };
}

function sortedByName(clusters: Iterable<ClusterConfig>): ClusterConfig[] {
  return [...clusters].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The host's `ip:port` and, for a cluster given by DNS name, that name (Envoy's `hostname`). */
export function hostOf(cluster: ClusterConfig): { address: string; host: string; hostname: string; port: number } {
  const host = cluster.url.hostname.replace(/^\[|\]$/g, "");
  const port = cluster.url.port === "" ? 80 : Number(cluster.url.port);
  const isIp = /^[\d.]+$/.test(host) || host.includes(":");
  return { address: `${host.includes(":") ? `[${host}]` : host}:${port}`, host, hostname: isIp ? "" : host, port };
}
