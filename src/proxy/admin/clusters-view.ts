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
  const stat = (cluster: string, name: string): number => values.get(`cluster.${cluster}.${name}`) ?? 0;
  let text = "";
  for (const cluster of [...clusters].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
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
    const completed = stat(name, "upstream_rq_completed");
    const errors = stat(name, "upstream_rq_5xx");
    const hostStats: Array<[string, number]> = [
      ["cx_active", stat(name, "upstream_cx_active")],
      ["cx_connect_fail", stat(name, "upstream_cx_connect_fail")],
      ["cx_total", stat(name, "upstream_cx_total")],
      ["rq_active", 0],
      ["rq_error", errors],
      ["rq_success", completed - errors],
      ["rq_timeout", stat(name, "upstream_rq_timeout")],
      ["rq_total", stat(name, "upstream_rq_total")],
    ];
    for (const [statName, value] of hostStats) line(address, statName, value);
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

/** The host's `ip:port` and, for a cluster given by DNS name, that name (Envoy's `hostname`). */
export function hostOf(cluster: ClusterConfig): { address: string; hostname: string; port: number } {
  const host = cluster.url.hostname.replace(/^\[|\]$/g, "");
  const port = cluster.url.port === "" ? 80 : Number(cluster.url.port);
  const isIp = /^[\d.]+$/.test(host) || host.includes(":");
  return { address: `${host.includes(":") ? `[${host}]` : host}:${port}`, hostname: isIp ? "" : host, port };
}
