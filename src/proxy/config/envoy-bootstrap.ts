import { readAccessLogs } from "./access-log-config";
import { ConfigReader } from "./config-reader";
import { allRoutes, bufferLimitOf, ConfigError, defaultConfig, httpListenerViews, type DevProxyConfig } from "./dev-proxy-config";
import { describeMatch, readRouteConfiguration } from "./envoy-route-config";
import { readCluster } from "./envoy-cluster";
import { socketAddress } from "./socket-address";
import { readBootstrapExtensions } from "./bootstrap-extensions";
import { readHttpFilters } from "./envoy-http-filters";
import { isTcpListener, readTcpListener } from "./tcp-listener-config";
import { readDownstreamTransportSocket } from "./tls-config";

const HCM = "envoy.filters.network.http_connection_manager";

/** True when a parsed document looks like an Envoy bootstrap rather than the dev proxy's format. */
export function isEnvoyBootstrap(document: unknown): boolean {
  return typeof document === "object" && document !== null && ("static_resources" in document || "dynamic_resources" in document);
}

/**
 * Reads the subset of an Envoy v3 static bootstrap the dev proxy honours (docs/dev-proxy.md has
 * the table): `admin.address`; `bootstrap_extensions` wasm services (bootstrap-extensions.ts);
 * every HTTP listener's address (the first in the config's own fields, the others in
 * `additionalHttpListeners`; two on one address are refused), `per_connection_buffer_limit_bytes`
 * (the filters' per-stream buffer limit, as in Envoy), chain TLS (tls-config.ts) and HTTP connection manager:
 * `stat_prefix`, `codec_type`, `route_config` (envoy-route-config.ts), `http_filters`
 * (envoy-http-filters.ts); the TCP listeners, those without an HCM (tcp-listener-config.ts); and
 * the clusters (envoy-cluster.ts). Every other field is listed in `warnings` with its path. `cwd`
 * resolves relative `code.local.filename` paths, as Envoy does.
 *
 * @throws ConfigError, naming the field, for what cannot work at all or would make a run differ
 *   from Envoy's (no listener, a route to an unknown cluster, a wasm filter without local code, a
 *   filter after the router, an HTTP filter that may change traffic, unmappable route matchers).
 */
export function configFromEnvoyBootstrap(document: unknown, cwd: string): { config: DevProxyConfig; warnings: string[] } {
  const warnings: string[] = [];
  const root = ConfigReader.of(document, "", warnings);
  const config = defaultConfig();
  config.echoUpstream = false;
  config.admin = null;

  const admin = root.child("admin");
  if (admin) {
    const address = admin.child("address");
    config.admin = address ? socketAddress(address) : null;
    admin.accept("access_log", "access_log_path", "profile_path");
    admin.finish();
  }
  root.unsupported("dynamic_resources", "xDS is not supported by the dev proxy; only static_resources are read");
  const node = root.child("node");
  if (node) {
    // Not used for xDS here; Wasm plugins read it as the `node` property, as in Envoy.
    config.node = node.value;
    node.accept(...Object.keys(node.value));
  }
  root.unsupported("layered_runtime");
  const services = readBootstrapExtensions(root, cwd);
  if (services.length > 0) config.services = services;
  root.unsupported("stats_sinks");
  root.unsupported("overload_manager");

  const resources = root.child("static_resources");
  if (!resources) throw new ConfigError("static_resources: missing; the dev proxy needs a listener");
  const clusters = resources.children("clusters").map((cluster) => readCluster(cluster, cwd));
  config.clusters = clusters;
  const allListeners = resources.children("listeners");
  if (allListeners.length === 0) throw new ConfigError("static_resources.listeners: no listener configured");
  const listeners = allListeners.filter((listener) => !isTcpListener(listener.value));
  config.tcpListeners = allListeners.filter((listener) => isTcpListener(listener.value)).map((listener) => readTcpListener(listener, cwd));
  // Every HTTP listener is served, as Envoy serves each: the first fills the config's own
  // listener fields (as flags and the small format do), the others get settings of their own.
  if (listeners.length > 0) {
    readListener(listeners[0], config, cwd);
    config.additionalHttpListeners = listeners.slice(1).map((listener) => {
      const own = defaultConfig();
      readListener(listener, own, cwd);
      const { listener: address, filters, metadataFilters, routes, routeTable, stripHostPort, suppressEnvoyHeaders, bufferLimitBytes, accessLogs, statPrefix } = own;
      return { listener: address, filters, metadataFilters, routes, routeTable, stripHostPort, suppressEnvoyHeaders, bufferLimitBytes, accessLogs, statPrefix };
    });
  } else {
    config.serveHttp = false;
    config.routes = [];
  }
  refuseDuplicateAddresses(allListeners, config);
  resources.unsupported("secrets");
  resources.finish();
  root.finish();

  const known = new Set(clusters.map((cluster) => cluster.name));
  for (const listener of config.tcpListeners) {
    const terminal = listener.terminal;
    // Envoy accepts it (tcp_proxy resolves its cluster per connection, tcp_proxy.cc) and closes
    // each connection with downstream_cx_no_route; so does the dev proxy, with a warning.
    if (terminal.kind === "tcp_proxy" && !known.has(terminal.cluster)) {
      warnings.push(`${terminal.clusterPath}: cluster "${terminal.cluster}" is not defined in static_resources.clusters; tcp_proxy closes every connection (downstream_cx_no_route)`);
    }
  }
  for (const route of allRoutes(config)) {
    if (route.directResponse === undefined && !known.has(route.cluster)) {
      throw new ConfigError(`route for ${describeMatch(route)} names cluster "${route.cluster}", which is not defined in static_resources.clusters`);
    }
  }
  return { config, warnings };
}

/**
 * Two listeners on one address cannot both bind; Envoy refuses the second at start ("error adding
 * listener: '<name>' has duplicate address '<address>' as existing listener", envoy
 * source/common/listener_manager/listener_manager_impl.cc). Port 0 asks for a fresh port each
 * time, so listeners on port 0 never clash.
 *
 * @throws ConfigError naming the later listener's `address` and the earlier listener.
 */
function refuseDuplicateAddresses(listeners: ConfigReader[], config: DevProxyConfig): void {
  const http = httpListenerViews(config).map((view) => view.listener);
  const tcp = config.tcpListeners.map((listener) => listener.address);
  // Both lists are in bootstrap order; put the addresses back in the order of `listeners`.
  const addresses = listeners.map((listener) => (isTcpListener(listener.value) ? tcp.shift()! : http.shift()!));
  const seen = new Map<string, number>();
  addresses.forEach((address, index) => {
    if (address.port === 0) return;
    const key = `${address.host.toLowerCase()}:${address.port}`;
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, index);
      return;
    }
    const name = (at: number): string => listeners[at].string("name") ?? "";
    throw new ConfigError(
      `${listeners[index].path}.address: listener '${name(index)}' has duplicate address '${key}' as existing listener '${name(first)}' (${listeners[first].path}); Envoy refuses the bootstrap`,
    );
  });
}

function readListener(listener: ConfigReader, config: DevProxyConfig, cwd: string): void {
  const name = listener.string("name");
  const address = listener.child("address");
  if (!address) throw new ConfigError(`${listener.path}.address: missing`);
  config.listener = socketAddress(address);
  if (name !== undefined && name !== "") config.listener.name = name;
  listener.unsupported("listener_filters");
  if (listener.has("per_connection_buffer_limit_bytes")) {
    config.bufferLimitBytes = bufferLimitOf(listener.number("per_connection_buffer_limit_bytes"), listener.at("per_connection_buffer_limit_bytes"));
  }
  const chains = listener.children("filter_chains");
  if (chains.length === 0) throw new ConfigError(`${listener.path}.filter_chains: missing`);
  for (const extra of chains.slice(1)) extra.warn("only the first filter chain is used; this one is ignored");
  const chain = chains[0];
  chain.unsupported("filter_chain_match");
  const tls = readDownstreamTransportSocket(chain.child("transport_socket"), cwd);
  if (tls !== null) config.listener.tls = tls;
  chain.accept("name");
  let foundHcm = false;
  for (const filter of chain.children("filters")) {
    const name = filter.string("name");
    if (name !== HCM) {
      filter.accept("typed_config");
      filter.warn(`network filter ${name ?? "(unnamed)"} is not supported; ignored (the dev proxy runs network filters only on a chain without an HTTP connection manager, a TCP listener)`);
      filter.finish();
      continue;
    }
    foundHcm = true;
    const typed = filter.child("typed_config");
    if (!typed) throw new ConfigError(`${filter.path}.typed_config: missing`);
    readConnectionManager(typed, config, cwd);
    filter.finish();
  }
  if (!foundHcm) throw new ConfigError(`${chain.path}.filters: no ${HCM}`);
  chain.finish();
  listener.finish();
}

function readConnectionManager(hcm: ConfigReader, config: DevProxyConfig, cwd: string): void {
  hcm.accept("@type");
  const statPrefix = hcm.string("stat_prefix");
  if (statPrefix !== undefined && statPrefix !== "") config.statPrefix = statPrefix;
  const codec = hcm.string("codec_type");
  if (codec === "HTTP3") throw new ConfigError(`${hcm.at("codec_type")}: HTTP3 is not supported by the dev proxy`);
  if (codec !== undefined && codec !== "AUTO") {
    // Envoy would refuse the other protocol on this listener; the dev proxy answers both.
    hcm.warn(`codec_type ${codec}: the dev proxy serves HTTP/1.1 and h2c on the listener (as AUTO)`);
  }
  config.accessLogs = readAccessLogs(hcm.children("access_log"));
  for (const key of ["use_remote_address", "xff_num_trusted_hops", "common_http_protocol_options", "http_protocol_options", "http2_protocol_options", "server_name", "generate_request_id", "normalize_path", "merge_slashes", "upgrade_configs", "tracing"]) {
    hcm.unsupported(key);
  }
  hcm.unsupported("rds", "RDS is not supported; use route_config");
  if (hcm.boolean("strip_any_host_port") === true) config.stripHostPort = "any";
  else if (hcm.boolean("strip_matching_host_port") === true) config.stripHostPort = "matching";
  const routeConfig = hcm.child("route_config");
  if (!routeConfig) throw new ConfigError(`${hcm.path}.route_config: missing`);
  config.routeTable = readRouteConfiguration(routeConfig, cwd);
  // The same route objects, flattened, for readers that list routes.
  config.routes = config.routeTable.virtualHosts.flatMap((host) => host.routes);

  readHttpFilters(hcm, config, cwd);
  hcm.finish();
}
