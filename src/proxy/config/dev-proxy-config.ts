import { checkBufferLimit, DEFAULT_BUFFER_LIMIT_BYTES } from "../../host/drivers/buffer-limit";

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

/**
 * One wasm service (`bootstrap_extensions` `envoy.bootstrap.wasm`): a plugin with a root context
 * only (ticks, shared data, queues, callouts), never given traffic.
 */
export interface WasmServiceConfig extends WasmFilterConfig {
  /** One VM for the process (true), or one per worker thread (false), as Envoy's `singleton`. */
  singleton: boolean;
}

/**
 * One `envoy.filters.http.set_metadata` filter: on request headers it writes `entries` into the
 * stream's dynamic metadata (`metadata.filter_metadata.<namespace>`), which Wasm filters after it
 * read as the `metadata` property.
 */
export interface SetMetadataFilterConfig {
  /** Index in `DevProxyConfig.filters` of the Wasm filter it runs before (`filters.length`: after all). */
  position: number;
  entries: MetadataEntry[];
}

/** One `set_metadata.v3.Metadata` entry (untyped). */
export interface MetadataEntry {
  namespace: string;
  value: Record<string, unknown>;
  /** Merge into an existing namespace (true) or leave it alone (false). */
  allowOverwrite: boolean;
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
  /**
   * `use_downstream_protocol_config`: routed requests go out in the downstream's protocol (h2c
   * for an h2c client, HTTP/1.1 otherwise); callouts, which have no downstream, use `http2`.
   */
  useDownstreamProtocol?: boolean;
  connectTimeoutMs: number;
  /** The bootstrap's cluster `type` (STATIC, STRICT_DNS, LOGICAL_DNS); absent for clusters not from a bootstrap. */
  type?: "STATIC" | "STRICT_DNS" | "LOGICAL_DNS";
  /** The cluster's UpstreamTlsContext (Envoy bootstrap `transport_socket`); absent: plaintext. */
  tls?: UpstreamTlsConfig | null;
  /** The cluster's `metadata.filter_metadata` (the `xds.cluster_metadata` property of TCP connections). */
  filterMetadata?: Record<string, unknown>;
}

/**
 * One route of a virtual host (Envoy `config.route.v3.Route`). First match wins. The path match is
 * one of `prefix`, `path` (exact, without the query), `pathSeparatedPrefix` or `regex` (an RE2
 * `safe_regex` translated to JavaScript, matched against the whole path without the query); the
 * request must also satisfy every `headers` matcher. The action is either `cluster` (forward) or
 * `directResponse` (answer from the route).
 */
export interface RouteConfig {
  /** Envoy's `name`: the `xds.route_name` property. */
  name?: string;
  /** Envoy's `metadata` (`filter_metadata`, …): the `xds.route_metadata` property. */
  metadata?: Record<string, unknown>;
  prefix?: string;
  path?: string;
  pathSeparatedPrefix?: string;
  /** The translated RE2 pattern (anchored: it must match the whole path). */
  regex?: TranslatedRegex;
  /** Envoy's `case_sensitive` (default true) for prefix and path; present only when false. */
  caseSensitive?: boolean;
  /** `match.grpc`: only requests whose content-type is application/grpc… */
  grpc?: boolean;
  headers?: HeaderMatcherConfig[];
  /** Target cluster; empty for a direct response. */
  cluster: string;
  /** Envoy's route timeout; 0 disables it. Envoy's default is 15 s. */
  timeoutMs: number;
  /** `route.prefix_rewrite`: replaces the matched part of the path. */
  prefixRewrite?: string;
  /** `route.host_rewrite_literal`: the upstream `:authority`. */
  hostRewrite?: string;
  /** `direct_response`: the route answers itself (details `direct_response`). */
  directResponse?: { status: number; body: Buffer };
  /** `request_headers_to_add/remove` of the route, its virtual host and the route table, in the order Envoy applies them. */
  requestHeaderMutations?: HeaderMutation[];
  /** `response_headers_to_add/remove`, likewise. */
  responseHeaderMutations?: HeaderMutation[];
}

/**
 * One header change of a route, virtual host or route table (`HeaderValueOption` or a name of
 * `*_headers_to_remove`). `action` is Envoy's `append_action`.
 */
export type HeaderMutation =
  | { remove: string }
  | { name: string; value: string; action: "APPEND_IF_EXISTS_OR_ADD" | "ADD_IF_ABSENT" | "OVERWRITE_IF_EXISTS_OR_ADD" | "OVERWRITE_IF_EXISTS" };

/** One `config.route.v3.HeaderMatcher`. */
export interface HeaderMatcherConfig {
  name: string;
  kind: "exact" | "prefix" | "suffix" | "contains" | "regex" | "present";
  /** The string to compare with (unused for `present` and `regex`). */
  value: string;
  /** For `regex`: the translated RE2 pattern (anchored: it must match the whole value). */
  regex?: TranslatedRegex;
  /** For `present`: whether the header must be present (true) or absent (false). */
  present?: boolean;
  ignoreCase?: boolean;
  invert?: boolean;
  treatMissingAsEmpty?: boolean;
}

/** An RE2 pattern as JavaScript RegExp source and flags (see re2-regex.ts). */
export interface TranslatedRegex {
  source: string;
  flags: string;
  /** The RE2 pattern as configured (for /config_dump). */
  re2?: string;
}

/**
 * A virtual host: requests whose `:authority` matches one of `domains` (exact, `*.suffix`,
 * `prefix.*` or `*`, Envoy's precedence) are routed by its `routes`.
 */
export interface VirtualHostConfig {
  name: string;
  domains: string[];
  routes: RouteConfig[];
}

/** The HCM's `route_config`. */
export interface RouteTableConfig {
  /** The `route_config` `name`; absent when it has none. */
  name?: string;
  virtualHosts: VirtualHostConfig[];
  /** `ignore_port_in_host_matching`: the port of `:authority` is left out when matching domains. */
  ignorePortInHostMatching?: boolean;
}

export interface ListenerConfig {
  /** The bootstrap listener's `name` (for /config_dump); absent when it has none. */
  name?: string;
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
  /** The bootstrap's `node` (id, cluster, metadata, …): Wasm plugins read it as the `node` property. */
  node?: Record<string, unknown>;
  /** Wasm services from `bootstrap_extensions`: started with the filters, never given traffic. */
  services?: WasmServiceConfig[];
  /** The HCM's `strip_any_host_port` (`any`) or `strip_matching_host_port` (`matching`). */
  stripHostPort?: "any" | "matching";
  /** The router's `suppress_envoy_headers`: no `x-envoy-*` request headers added upstream. */
  suppressEnvoyHeaders?: boolean;
  /** `envoy.filters.http.set_metadata` filters, placed among `filters` by their position. */
  metadataFilters?: SetMetadataFilterConfig[];
  /**
   * Routes of the one catch-all virtual host when `routeTable` is undefined (flags, the small
   * format). With a `routeTable`, the same route objects flattened (every host's, in order), for
   * listing only: routing follows the table.
   */
  routes: RouteConfig[];
  /** Virtual hosts and their routes (an Envoy bootstrap's `route_config`); replaces `routes` when set. */
  routeTable?: RouteTableConfig;
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
  /**
   * Envoy's listener `per_connection_buffer_limit_bytes`: the most body bytes a filter may buffer
   * per stream and direction before the stream fails (413 for a request, 500 or a reset for a
   * response; see src/host/drivers/buffer-limit.ts). 0: no limit. Default 1 MiB, as in Envoy.
   */
  bufferLimitBytes: number;
  /** The HTTP connection manager's access logs (none by default, as in Envoy). */
  accessLogs: AccessLogConfig[];
  /** The HCM's `stat_prefix`: its stats are `http.<stat_prefix>.*`. Absent: `ingress_http`. */
  statPrefix?: string;
  /**
   * The bootstrap's HTTP listeners after the first (whose settings are the fields above), in
   * bootstrap order; each is served on its own port with its own filters, routes, access logs
   * and stats, as Envoy serves every listener. Flags and the small format configure one listener.
   */
  additionalHttpListeners?: HttpListenerSettings[];
}

/** What one HTTP listener and its connection manager configure (DevProxyConfig's per-listener fields). */
export type HttpListenerSettings = Pick<
  DevProxyConfig,
  "listener" | "filters" | "metadataFilters" | "routes" | "routeTable" | "stripHostPort" | "suppressEnvoyHeaders" | "bufferLimitBytes" | "accessLogs" | "statPrefix"
>;

/** Default HCM stat prefix (flags, the small format), the one Envoy's examples use. */
export const DEFAULT_HTTP_STAT_PREFIX = "ingress_http";

/**
 * One config per served HTTP listener, in order: `config` itself for the first, then `config`
 * with each additional listener's settings in place of the first's. Process-wide parts (clusters,
 * admin, concurrency, node) are the same objects; wasm services belong to the first view only,
 * so they start once. Empty when no HTTP listener is served.
 */
export function httpListenerViews(config: DevProxyConfig): DevProxyConfig[] {
  if (!config.serveHttp) return [];
  const extra = (config.additionalHttpListeners ?? []).map((settings) => ({ ...config, services: [], additionalHttpListeners: [], ...settings }));
  return [config, ...extra];
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
    bufferLimitBytes: DEFAULT_BUFFER_LIMIT_BYTES,
    accessLogs: [],
  };
}

/** The routing in effect: `routeTable`, or one virtual host for every authority with `routes`. */
export function effectiveRouteTable(config: Pick<DevProxyConfig, "routes" | "routeTable">): RouteTableConfig {
  return config.routeTable ?? { virtualHosts: [{ name: "default", domains: ["*"], routes: config.routes }] };
}

/** Every route of every virtual host, in order, of every HTTP listener (the first's first). */
export function allRoutes(config: DevProxyConfig): RouteConfig[] {
  const listeners: Array<Pick<DevProxyConfig, "routes" | "routeTable">> = [config, ...(config.additionalHttpListeners ?? [])];
  return listeners.flatMap((listener) => effectiveRouteTable(listener).virtualHosts.flatMap((host) => host.routes));
}

/** The Wasm HTTP filters of every HTTP listener, the first's first. */
export function allHttpFilters(config: DevProxyConfig): WasmFilterConfig[] {
  return [...config.filters, ...(config.additionalHttpListeners ?? []).flatMap((listener) => listener.filters)];
}

/**
 * Checks a buffer limit read from `where` (a config field or a flag): a whole number of bytes
 * from 0 (no limit) to 4294967295, Envoy's UInt32Value range.
 *
 * @throws ConfigError naming `where` otherwise.
 */
export function bufferLimitOf(value: unknown, where: string): number {
  try {
    return checkBufferLimit(value, where);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
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
