import type { AccessLogConfig } from "../config/access-log-config";
import { DEFAULT_HTTP_STAT_PREFIX, httpListenerViews } from "../config/dev-proxy-config";
import type {
  ClusterConfig,
  DevProxyConfig,
  HeaderMatcherConfig,
  HeaderMutation,
  ListenerConfig,
  RouteConfig,
  TranslatedRegex,
  VirtualHostConfig,
  WasmFilterConfig,
} from "../config/dev-proxy-config";
import { DEFAULT_BUFFER_LIMIT_BYTES } from "../../host/drivers/buffer-limit";
import { DEFAULT_TCP_IDLE_TIMEOUT_MS, type TcpListenerConfig } from "../config/tcp-listener-config";
import type { DownstreamTlsConfig, UpstreamTlsConfig } from "../config/tls-config";
import { hostOf } from "./clusters-view";

const TYPE = "type.googleapis.com/";
const HCM_TYPE = `${TYPE}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`;

/**
 * Envoy's `/config_dump` (envoy source/server/admin/config_dump_handler.cc) for the effective
 * configuration: whatever the proxy was started from (flags, the short format or a bootstrap),
 * the dump shows what it runs, as the static bootstrap Envoy would need to run the same, in
 * Envoy's shape: `configs` holding a BootstrapConfigDump, a ClustersConfigDump
 * (`static_clusters`), a ListenersConfigDump (`static_listeners`) and a RoutesConfigDump
 * (`static_route_configs`), each resource with `last_updated`; TCP listeners and TLS transport
 * sockets included, private keys `[redacted]` as in Envoy. Fields at their proto3 default
 * are left out, as Envoy's JSON printer leaves them out. Only what the proxy honours appears:
 * a field it ignored (named in a start-up warning) is not in the dump.
 */
export function configDump(config: DevProxyConfig, clusters: Iterable<ClusterConfig>, startedAt: Date): unknown {
  const lastUpdated = startedAt.toISOString();
  const clusterList = [...clusters].map(clusterResource);
  // Each HTTP listener with its own connection manager and route table, in bootstrap order.
  const httpViews = httpListenerViews(config);
  const routeConfigs = httpViews.map(routeConfiguration);
  const listeners = [
    ...httpViews.map((view, index) => listenerResource(view, routeConfigs[index], index)),
    ...config.tcpListeners.map(tcpListenerResource),
  ];
  const bootstrap: Record<string, unknown> = {
    static_resources: { listeners, clusters: clusterList },
  };
  if (config.admin !== null) bootstrap.admin = { address: socketAddress(config.admin) };
  return {
    configs: [
      { "@type": `${TYPE}envoy.admin.v3.BootstrapConfigDump`, bootstrap, last_updated: lastUpdated },
      {
        "@type": `${TYPE}envoy.admin.v3.ClustersConfigDump`,
        static_clusters: clusterList.map((cluster) => ({ cluster, last_updated: lastUpdated })),
      },
      {
        "@type": `${TYPE}envoy.admin.v3.ListenersConfigDump`,
        static_listeners: listeners.map((listener) => ({ listener, last_updated: lastUpdated })),
      },
      {
        "@type": `${TYPE}envoy.admin.v3.RoutesConfigDump`,
        ...(routeConfigs.length > 0 ? { static_route_configs: routeConfigs.map((routeConfig) => ({ route_config: routeConfig, last_updated: lastUpdated })) } : {}),
      },
    ],
  };
}

/** Secrets print as Envoy's config dump prints them (envoy source/common/protobuf/utility.cc `MessageUtil::redact`). */
const REDACTED = { inline_string: "[redacted]" };

function pem(bytes: Buffer): unknown {
  return { inline_string: bytes.toString("utf8") };
}

/** A listener chain's `transport_socket` for its DownstreamTlsContext. */
function downstreamTransportSocket(tls: DownstreamTlsConfig): unknown {
  const common: Record<string, unknown> = { tls_certificates: [{ certificate_chain: pem(tls.certificateChain), private_key: REDACTED }] };
  if (tls.clientCa !== undefined) common.validation_context = { trusted_ca: pem(tls.clientCa) };
  if (tls.alpnProtocols.length > 0) common.alpn_protocols = tls.alpnProtocols;
  const context: Record<string, unknown> = { "@type": `${TYPE}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`, common_tls_context: common };
  if (tls.requireClientCertificate) context.require_client_certificate = true;
  return { name: "envoy.transport_sockets.tls", typed_config: context };
}

/** A cluster's `transport_socket` for its UpstreamTlsContext. */
function upstreamTransportSocket(tls: UpstreamTlsConfig): unknown {
  const common: Record<string, unknown> = {};
  if (tls.certificateChain !== undefined) common.tls_certificates = [{ certificate_chain: pem(tls.certificateChain), private_key: REDACTED }];
  if (tls.trustedCa !== undefined) common.validation_context = { trusted_ca: pem(tls.trustedCa) };
  if (tls.alpnProtocols.length > 0) common.alpn_protocols = tls.alpnProtocols;
  const context: Record<string, unknown> = { "@type": `${TYPE}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext` };
  if (Object.keys(common).length > 0) context.common_tls_context = common;
  if (tls.sni !== undefined) context.sni = tls.sni;
  return { name: "envoy.transport_sockets.tls", typed_config: context };
}

/** A TCP listener: its network Wasm filters, then tcp_proxy or direct_response. */
function tcpListenerResource(listener: TcpListenerConfig): Record<string, unknown> {
  const filters: unknown[] = listener.filters.map((filter) => wasmFilterOf("envoy.filters.network.wasm", filter));
  const terminal = listener.terminal;
  if (terminal.kind === "tcp_proxy") {
    const proxy: Record<string, unknown> = {
      "@type": `${TYPE}envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`,
      stat_prefix: terminal.statPrefix,
      cluster: terminal.cluster,
    };
    if (terminal.idleTimeoutMs !== DEFAULT_TCP_IDLE_TIMEOUT_MS) proxy.idle_timeout = durationText(terminal.idleTimeoutMs);
    filters.push({ name: "envoy.filters.network.tcp_proxy", typed_config: proxy });
  } else {
    filters.push({
      name: "envoy.filters.network.direct_response",
      typed_config: {
        "@type": `${TYPE}envoy.extensions.filters.network.direct_response.v3.Config`,
        response: { inline_bytes: terminal.response.toString("base64") },
      },
    });
  }
  const chain: Record<string, unknown> = { filters };
  if (listener.tls !== null) chain.transport_socket = downstreamTransportSocket(listener.tls);
  return {
    "@type": `${TYPE}envoy.config.listener.v3.Listener`,
    ...(listener.name !== "" ? { name: listener.name } : {}),
    address: socketAddress(listener.address),
    filter_chains: [chain],
  };
}

function socketAddress(listener: Pick<ListenerConfig, "host" | "port">): unknown {
  return { socket_address: { address: listener.host, port_value: listener.port } };
}

/** A protobuf JSON duration: whole seconds as `15s`, others with milliseconds as `0.250s`. */
export function durationText(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(3)}s`;
}

/**
 * The route table in effect: a bootstrap's `route_config` (its name, virtual hosts with their
 * domains, routes with matchers and actions), or for flags and the short format one catch-all
 * virtual host. A route's header mutations are its effective list (its virtual host's and the
 * table's folded in, as the proxy applies them), so they all show at the route.
 */
function routeConfiguration(config: DevProxyConfig): Record<string, unknown> {
  const table = config.routeTable;
  const virtualHosts = table === undefined ? [{ name: "local_service", domains: ["*"], routes: config.routes }] : table.virtualHosts;
  const resource: Record<string, unknown> = { "@type": `${TYPE}envoy.config.route.v3.RouteConfiguration` };
  const name = table === undefined ? "local_route" : table.name;
  if (name !== undefined) resource.name = name;
  resource.virtual_hosts = virtualHosts.map(virtualHostResource);
  if (table?.ignorePortInHostMatching === true) resource.ignore_port_in_host_matching = true;
  return resource;
}

function virtualHostResource(host: VirtualHostConfig): Record<string, unknown> {
  const resource: Record<string, unknown> = {};
  if (host.name !== "") resource.name = host.name;
  resource.domains = host.domains;
  resource.routes = host.routes.map(routeResource);
  return resource;
}

function routeResource(route: RouteConfig): Record<string, unknown> {
  const resource: Record<string, unknown> = {};
  if (route.name !== undefined) resource.name = route.name;
  resource.match = routeMatch(route);
  if (route.directResponse !== undefined) {
    const direct: Record<string, unknown> = { status: route.directResponse.status };
    if (route.directResponse.body.length > 0) direct.body = dataSource(route.directResponse.body);
    resource.direct_response = direct;
  } else {
    const action: Record<string, unknown> = { cluster: route.cluster, timeout: durationText(route.timeoutMs) };
    if (route.prefixRewrite !== undefined) action.prefix_rewrite = route.prefixRewrite;
    if (route.hostRewrite !== undefined) action.host_rewrite_literal = route.hostRewrite;
    resource.route = action;
  }
  if (route.metadata !== undefined) resource.metadata = route.metadata;
  Object.assign(resource, headerMutationFields("request", route.requestHeaderMutations), headerMutationFields("response", route.responseHeaderMutations));
  return resource;
}

function routeMatch(route: RouteConfig): Record<string, unknown> {
  const match: Record<string, unknown> = {};
  if (route.prefix !== undefined) match.prefix = route.prefix;
  else if (route.path !== undefined) match.path = route.path;
  else if (route.pathSeparatedPrefix !== undefined) match.path_separated_prefix = route.pathSeparatedPrefix;
  else if (route.regex !== undefined) match.safe_regex = regexMatcher(route.regex);
  if (route.caseSensitive === false) match.case_sensitive = false;
  if (route.grpc === true) match.grpc = {};
  if (route.headers !== undefined && route.headers.length > 0) match.headers = route.headers.map(headerMatcher);
  return match;
}

/** A `type.matcher.v3.RegexMatcher` with the pattern as configured. */
function regexMatcher(regex: TranslatedRegex): unknown {
  return { regex: regex.re2 ?? regex.source };
}

const STRING_MATCH_KEY: Record<string, string> = { exact: "exact", prefix: "prefix", suffix: "suffix", contains: "contains" };

/** A `config.route.v3.HeaderMatcher` in its current spelling (`string_match`, `present_match`). */
function headerMatcher(matcher: HeaderMatcherConfig): Record<string, unknown> {
  const resource: Record<string, unknown> = { name: matcher.name };
  if (matcher.kind === "present") resource.present_match = matcher.present ?? true;
  else {
    const stringMatch: Record<string, unknown> =
      matcher.kind === "regex" ? { safe_regex: regexMatcher(matcher.regex ?? { source: "", flags: "" }) } : { [STRING_MATCH_KEY[matcher.kind]]: matcher.value };
    if (matcher.ignoreCase === true) stringMatch.ignore_case = true;
    resource.string_match = stringMatch;
  }
  if (matcher.invert === true) resource.invert_match = true;
  if (matcher.treatMissingAsEmpty === true) resource.treat_missing_header_as_empty = true;
  return resource;
}

/** `<side>_headers_to_add` (HeaderValueOption) and `<side>_headers_to_remove`, leaving out empty ones. */
function headerMutationFields(side: "request" | "response", mutations: HeaderMutation[] | undefined): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  const add: unknown[] = [];
  const remove: string[] = [];
  for (const mutation of mutations ?? []) {
    if ("remove" in mutation) remove.push(mutation.remove);
    else {
      const option: Record<string, unknown> = { header: { key: mutation.name, value: mutation.value } };
      // APPEND_IF_EXISTS_OR_ADD is the enum's default: proto3 JSON leaves it out.
      if (mutation.action !== "APPEND_IF_EXISTS_OR_ADD") option.append_action = mutation.action;
      add.push(option);
    }
  }
  if (add.length > 0) fields[`${side}_headers_to_add`] = add;
  if (remove.length > 0) fields[`${side}_headers_to_remove`] = remove;
  return fields;
}

/** A `config.core.v3.DataSource`: text as `inline_string`, other bytes as `inline_bytes`. */
function dataSource(bytes: Buffer): unknown {
  const text = bytes.toString("utf8");
  return Buffer.from(text, "utf8").equals(bytes) ? { inline_string: text } : { inline_bytes: bytes.toString("base64") };
}

/** An HTTP listener (`index` among the HTTP listeners names one that has no name). */
function listenerResource(config: DevProxyConfig, routeConfig: Record<string, unknown>, index: number): Record<string, unknown> {
  const { "@type": _type, ...inlineRoutes } = routeConfig;
  const hcm: Record<string, unknown> = {
    "@type": HCM_TYPE,
    stat_prefix: config.statPrefix ?? DEFAULT_HTTP_STAT_PREFIX,
    route_config: inlineRoutes,
    ...(config.stripHostPort === "any" ? { strip_any_host_port: true } : config.stripHostPort === "matching" ? { strip_matching_host_port: true } : {}),
    http_filters: [
      ...config.filters.map(wasmFilter),
      {
        name: "envoy.filters.http.router",
        typed_config: { "@type": `${TYPE}envoy.extensions.filters.http.router.v3.Router`, ...(config.suppressEnvoyHeaders === true ? { suppress_envoy_headers: true } : {}) },
      },
    ],
  };
  if (config.accessLogs.length > 0) hcm.access_log = config.accessLogs.map(accessLog);
  const chain: Record<string, unknown> = { filters: [{ name: "envoy.filters.network.http_connection_manager", typed_config: hcm }] };
  if (config.listener.tls) chain.transport_socket = downstreamTransportSocket(config.listener.tls);
  return {
    "@type": `${TYPE}envoy.config.listener.v3.Listener`,
    name: config.listener.name ?? `listener_${index}`,
    address: socketAddress(config.listener),
    // A UInt32Value: shown when it is not Envoy's default, as a dump of such a bootstrap shows it.
    ...(config.bufferLimitBytes !== DEFAULT_BUFFER_LIMIT_BYTES ? { per_connection_buffer_limit_bytes: config.bufferLimitBytes } : {}),
    filter_chains: [chain],
  };
}

function stringValue(bytes: Buffer): unknown {
  return { "@type": `${TYPE}google.protobuf.StringValue`, value: bytes.toString("utf8") };
}

function wasmFilter(filter: WasmFilterConfig): unknown {
  return wasmFilterOf("envoy.filters.http.wasm", filter);
}

/** An HTTP or network Wasm filter (both take envoy.extensions.wasm.v3.PluginConfig as `config`). */
function wasmFilterOf(filterName: string, filter: WasmFilterConfig): unknown {
  const vmConfig: Record<string, unknown> = {
    runtime: "envoy.wasm.runtime.v8",
    code: { local: { filename: filter.wasmPath } },
  };
  if (filter.vmId !== "") vmConfig.vm_id = filter.vmId;
  if (filter.vmConfiguration.length > 0) vmConfig.configuration = stringValue(filter.vmConfiguration);
  const plugin: Record<string, unknown> = {};
  if (filter.name !== "") plugin.name = filter.name;
  if (filter.rootId !== "") plugin.root_id = filter.rootId;
  plugin.vm_config = vmConfig;
  if (filter.pluginConfiguration.length > 0) plugin.configuration = stringValue(filter.pluginConfiguration);
  if (filter.failurePolicy !== "FAIL_CLOSED") plugin.failure_policy = filter.failurePolicy;
  if (filter.allowOnHeadersStopIteration) plugin.allow_on_headers_stop_iteration = true;
  const typeName = filterName === "envoy.filters.http.wasm" ? "envoy.extensions.filters.http.wasm.v3.Wasm" : "envoy.extensions.filters.network.wasm.v3.Wasm";
  return { name: filterName, typed_config: { "@type": `${TYPE}${typeName}`, config: plugin } };
}

function accessLog(log: AccessLogConfig): unknown {
  const format = { text_format_source: { inline_string: log.format } };
  if (log.path === "/dev/stdout" || log.path === "/dev/stderr") {
    const kind = log.path === "/dev/stdout" ? "Stdout" : "Stderr";
    return {
      name: `envoy.access_loggers.${kind.toLowerCase()}`,
      typed_config: { "@type": `${TYPE}envoy.extensions.access_loggers.stream.v3.${kind}AccessLog`, log_format: format },
    };
  }
  return {
    name: "envoy.access_loggers.file",
    typed_config: { "@type": `${TYPE}envoy.extensions.access_loggers.file.v3.FileAccessLog`, path: log.path, log_format: format },
  };
}

function clusterResource(cluster: ClusterConfig): Record<string, unknown> {
  const { hostname, port } = hostOf(cluster);
  const host = cluster.url.hostname.replace(/^\[|\]$/g, "");
  const resource: Record<string, unknown> = {
    "@type": `${TYPE}envoy.config.cluster.v3.Cluster`,
    name: cluster.name,
    type: cluster.type ?? (hostname === "" ? "STATIC" : "STRICT_DNS"),
    connect_timeout: durationText(cluster.connectTimeoutMs),
    load_assignment: {
      cluster_name: cluster.name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] }],
    },
  };
  if (cluster.tls) resource.transport_socket = upstreamTransportSocket(cluster.tls);
  // The protocol the router speaks to it: the client's, or HTTP/2 (HTTP/1.1, the default, leaves the options out).
  if (cluster.useDownstreamProtocol === true || cluster.http2) {
    const options = `envoy.extensions.upstreams.http.v3.HttpProtocolOptions`;
    const protocol = cluster.useDownstreamProtocol === true ? { use_downstream_protocol_config: {} } : { explicit_http_config: { http2_protocol_options: {} } };
    resource.typed_extension_protocol_options = { [options]: { "@type": `${TYPE}${options}`, ...protocol } };
  }
  return resource;
}

/** The repeated resource fields of each dump message, with their element types (envoy admin/v3 protos). */
const RESOURCE_FIELDS: Record<string, string> = {
  static_clusters: "envoy.admin.v3.ClustersConfigDump.StaticCluster",
  dynamic_active_clusters: "envoy.admin.v3.ClustersConfigDump.DynamicCluster",
  dynamic_warming_clusters: "envoy.admin.v3.ClustersConfigDump.DynamicCluster",
  static_listeners: "envoy.admin.v3.ListenersConfigDump.StaticListener",
  dynamic_listeners: "envoy.admin.v3.ListenersConfigDump.DynamicListener",
  static_route_configs: "envoy.admin.v3.RoutesConfigDump.StaticRouteConfig",
  dynamic_route_configs: "envoy.admin.v3.RoutesConfigDump.DynamicRouteConfig",
};

/** What `/config_dump` answers for its query. */
export interface ConfigDumpAnswer {
  status: number;
  /** JSON for 200, a text error otherwise. */
  body: unknown;
}

/**
 * `/config_dump?resource=<field>&mask=<paths>` as Envoy's handler reads them
 * (envoy source/server/admin/config_dump_handler.cc): `resource` lists the elements of that
 * repeated field, each as its own config (404 `<field> not found in config dump` for a field no
 * dump has); `mask` (comma-separated field paths, dot for nesting) keeps only those fields of
 * each config (or element), dropping configs it matches nothing in (400 when it matches none).
 */
export function queryConfigDump(dump: { configs: Array<Record<string, unknown>> }, params: URLSearchParams): ConfigDumpAnswer {
  const resource = params.get("resource");
  const mask = params.get("mask");
  let configs: Array<Record<string, unknown>> = dump.configs;
  if (resource !== null && resource !== "") {
    const elementType = RESOURCE_FIELDS[resource];
    if (elementType === undefined) return { status: 404, body: `${resource} not found in config dump` };
    configs = dump.configs.flatMap((config) =>
      ((config[resource] as Array<Record<string, unknown>> | undefined) ?? []).map((element) => ({ "@type": `${TYPE}${elementType}`, ...element })),
    );
  }
  if (mask !== null && mask !== "") {
    const paths = mask.split(",").map((path) => path.trim().split("."));
    const masked = configs.map((config) => applyMask(config, paths)).filter((config) => config !== undefined);
    if (masked.length === 0 && configs.length > 0) {
      return { status: 400, body: `FieldMask ${mask} could not be successfully applied to any configs.` };
    }
    configs = masked;
  }
  return { status: 200, body: configs.length === 0 ? {} : { configs } };
}

/** Keeps `@type` and the fields on `paths`; undefined when no path exists in `config`. */
function applyMask(config: Record<string, unknown>, paths: string[][]): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = { "@type": config["@type"] };
  let kept = false;
  for (const path of paths) {
    let source: unknown = config;
    for (const key of path) source = typeof source === "object" && source !== null ? (source as Record<string, unknown>)[key] : undefined;
    if (source === undefined) continue;
    kept = true;
    let target = out;
    path.forEach((key, index) => {
      if (index === path.length - 1) target[key] = source;
      else target = (target[key] ??= {}) as Record<string, unknown>;
    });
  }
  return kept ? out : undefined;
}
