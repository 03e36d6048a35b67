/**
 * The dev proxy's whole configuration, in one shape whatever it was read from (flags, the small
 * YAML/JSON file format, or an Envoy v3 static bootstrap). Everything is resolved: paths are
 * absolute, URLs parsed, defaults filled in by `withDefaults`.
 */
import type { TcpListenerConfig } from "./tcp-listener-config";
import type { DownstreamTlsConfig, UpstreamTlsConfig } from "./tls-config";

import type { AccessLogConfig } from "./access-log-config";

/** What to do with a stream when the plugin's VM has failed (Envoy `PluginConfig.failure_policy`). */
export type FailurePolicy = "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";

/** One `envoy.filters.http.wasm` filter: a PluginConfig reduced to the fields the proxy honours. */
export interface WasmFilterConfig {
  /** PluginConfig.name: appears in logs and stats. */
  name: string;
  /** PluginConfig.root_id. */
  rootId: string;
  /** vm_config.vm_id: filters with the same vm_id share shared data and queues. */
  vmId: string;
  /** Absolute path of the .wasm (vm_config.code.local.filename). */
  wasmPath: string;
  /**
   * Absolute path of the module's source map, for failure reports at source lines; absent: the
   * host uses `<wasmPath>.map` when there is one (no Envoy field: a dev proxy option).
   */
  sourceMapPath?: string;
  /** PluginConfig.configuration as the bytes `proxy_on_configure` reads. */
  pluginConfiguration: Buffer;
  /**
   * Where the plugin configuration was written, for messages (`filters[0].configuration`,
   * `--plugin-config`), and whether its bytes are the text as written there (a string, a
   * StringValue: positions in it mean something) or JSON made from a mapping. Absent: unknown.
   */
  pluginConfigurationOrigin?: ConfigurationOrigin;
  /** vm_config.configuration as the bytes `proxy_on_vm_start` reads. */
  vmConfiguration: Buffer;
  failurePolicy: FailurePolicy;
  /** PluginConfig.allow_on_headers_stop_iteration (default false, as in Envoy). */
  allowOnHeadersStopIteration: boolean;
}

/** Where a configuration came from (see WasmFilterConfig.pluginConfigurationOrigin). */
export interface ConfigurationOrigin {
  where: string;
  asWritten: boolean;
}

/** A named upstream: the route's target and the `upstream` argument of http/gRPC callouts. */
export interface ClusterConfig {
  name: string;
  /** Base URL (scheme, host, port); only `http:` is supported (no TLS). */
  url: URL;
  /** Speak h2c to it (needed for gRPC clusters). */
  http2: boolean;
  connectTimeoutMs: number;
  /** The cluster's UpstreamTlsContext (Envoy bootstrap `transport_socket`); absent: plaintext. */
  tls?: UpstreamTlsConfig | null;
  /** The cluster's `metadata.filter_metadata` (the `xds.cluster_metadata` property of TCP connections). */
  filterMetadata?: Record<string, unknown>;
}

/** One route: requests whose path starts with `prefix` go to `cluster`. First match wins. */
export interface RouteConfig {
  prefix: string;
  cluster: string;
  /** Envoy's route timeout; 0 disables it. Envoy's default is 15 s. */
  timeoutMs: number;
}

export interface ListenerConfig {
  host: string;
  port: number;
  /** TLS from the filter chain's `transport_socket` (HTTP listener only); absent: plaintext. */
  tls?: DownstreamTlsConfig | null;
}

export interface DevProxyConfig {
  listener: ListenerConfig;
  /** False when an Envoy bootstrap has no HTTP listener (only TCP ones): `listener` is not served. */
  serveHttp: boolean;
  /** TCP listeners (network filters and tcp_proxy), from an Envoy bootstrap. */
  tcpListeners: TcpListenerConfig[];
  /** Admin endpoint; null turns it off. */
  admin: ListenerConfig | null;
  /** HTTP filters in chain order (before the router, as in `http_filters`). */
  filters: WasmFilterConfig[];
  routes: RouteConfig[];
  clusters: ClusterConfig[];
  /** Start the built-in echo upstream and point the default cluster at it. */
  echoUpstream: boolean;
  logLevel: "trace" | "debug" | "info" | "warning" | "error" | "critical" | "off";
  /** Worker threads, one VM per filter per worker. */
  concurrency: number;
  /** Watch the .wasm files and swap VMs for new streams when one changes. */
  hotReload: boolean;
  /** Longest a single filter callback may run before it is stopped and the failure policy applies. */
  callbackTimeLimitMs: number;
  /** The HTTP connection manager's access logs (none by default, as in Envoy). */
  accessLogs: AccessLogConfig[];
}

/** Name of the cluster `--upstream` (or the echo upstream) defines. */
export const DEFAULT_CLUSTER = "upstream";
/** Envoy's default route timeout. */
export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;
/** Envoy's default cluster connect timeout. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** A config with nothing configured: 127.0.0.1:10000, admin on 127.0.0.1:9901, echo upstream. */
export function defaultConfig(): DevProxyConfig {
  return {
    listener: { host: "127.0.0.1", port: 10000 },
    serveHttp: true,
    tcpListeners: [],
    admin: { host: "127.0.0.1", port: 9901 },
    filters: [],
    routes: [{ prefix: "/", cluster: DEFAULT_CLUSTER, timeoutMs: DEFAULT_ROUTE_TIMEOUT_MS }],
    clusters: [],
    echoUpstream: true,
    logLevel: "info",
    concurrency: 1,
    hotReload: false,
    callbackTimeLimitMs: 5_000,
    accessLogs: [],
  };
}

/** Parses `FAIL_OPEN` / `fail_open` / `FAIL_CLOSED` / `UNSPECIFIED` / `FAIL_RELOAD`; undefined if unknown. */
export function parseFailurePolicy(text: string): FailurePolicy | undefined {
  const upper = text.trim().toUpperCase();
  if (upper === "UNSPECIFIED" || upper === "FAIL_CLOSED" || upper === "FAIL_CLOSE") return "FAIL_CLOSED";
  if (upper === "FAIL_OPEN") return "FAIL_OPEN";
  if (upper === "FAIL_RELOAD") return "FAIL_RELOAD";
  return undefined;
}

/** Thrown for a configuration the proxy refuses to start with; the message says what and where. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}
