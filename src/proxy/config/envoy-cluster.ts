import { isIP } from "node:net";
import { ConfigReader, parseDurationMs } from "./config-reader";
import { bufferLimitOf, ConfigError, DEFAULT_CONNECT_TIMEOUT_MS, type ClusterConfig } from "./dev-proxy-config";
import { socketAddress } from "./socket-address";
import { readUpstreamTransportSocket } from "./tls-config";

const HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/**
 * One `static_resources.clusters[]` entry. Types: STATIC (endpoint addresses must be IPs, as
 * Envoy requires), STRICT_DNS and LOGICAL_DNS (host names such as `localhost` are resolved when
 * connecting). The upstream protocol follows Envoy's options (envoy
 * source/extensions/upstreams/http/config.cc): `typed_extension_protocol_options` with
 * `envoy.extensions.upstreams.http.v3.HttpProtocolOptions` `explicit_http_config`
 * (`http_protocol_options` -> HTTP/1.1, `http2_protocol_options` -> h2c), or the older
 * cluster-level `http2_protocol_options`; `use_downstream_protocol_config` (routed requests in the
 * downstream's protocol); default HTTP/1.1. A `transport_socket` UpstreamTlsContext (tls-config.ts)
 * puts either protocol on TLS (HTTP/2 with ALPN `h2`); `metadata.filter_metadata` is kept for the
 * `xds.cluster_metadata` property. `cwd` resolves certificate paths.
 *
 * @throws ConfigError for what Envoy could not run either or the proxy cannot emulate faithfully:
 *   cluster types that need xDS or the original destination (EDS, ORIGINAL_DST, `cluster_type`),
 *   a STATIC cluster with a host name, a missing endpoint, HTTP/3, ALPN (auto) protocol selection.
 */
export function readCluster(cluster: ConfigReader, cwd: string): ClusterConfig {
  const name = cluster.string("name");
  if (name === undefined) throw new ConfigError(`${cluster.path}.name: missing`);
  const type = cluster.string("type") ?? "STATIC";
  if (!["STATIC", "STRICT_DNS", "LOGICAL_DNS"].includes(type)) {
    throw new ConfigError(`${cluster.at("type")}: ${type} is not supported (STATIC, STRICT_DNS or LOGICAL_DNS)`);
  }
  if (cluster.has("cluster_type")) throw new ConfigError(`${cluster.at("cluster_type")}: custom cluster types are not supported`);
  const connectTimeout = cluster.string("connect_timeout");
  cluster.accept("dns_lookup_family", "dns_refresh_rate", "respect_dns_ttl");
  const policy = cluster.string("lb_policy");
  if (policy !== undefined && policy !== "ROUND_ROBIN") cluster.warn(`lb_policy ${policy}: the dev proxy sends every request to the first endpoint`);
  const tls = readUpstreamTransportSocket(cluster.child("transport_socket"), cwd);
  const metadata = cluster.child("metadata");
  const filterMetadata = metadata?.raw("filter_metadata");
  metadata?.unsupported("typed_filter_metadata");
  metadata?.finish();
  cluster.unsupported("hosts", "legacy `hosts` is not supported; use load_assignment");
  cluster.unsupported("circuit_breakers");
  if (cluster.has("per_connection_buffer_limit_bytes")) {
    bufferLimitOf(cluster.number("per_connection_buffer_limit_bytes"), cluster.at("per_connection_buffer_limit_bytes"));
    // Envoy applies a cluster's limit to its upstream connections (flow control), not to the
    // filters' buffers: those use the listener's, for responses too (filter_manager.cc createBuffer).
    cluster.warn("per_connection_buffer_limit_bytes: only bounds the upstream connection's buffers in Envoy (flow control, not modelled by the dev proxy); the filters' buffer limit is the listener's; ignored");
  }
  cluster.unsupported("health_checks");
  cluster.unsupported("outlier_detection");
  cluster.unsupported("common_http_protocol_options", "ignored (idle timeouts and header limits are Node's)");
  cluster.unsupported("http_protocol_options", "ignored (HTTP/1.1 options)");
  let http2 = cluster.raw("http2_protocol_options") !== undefined;
  let useDownstreamProtocol = false;
  const options = cluster.child("typed_extension_protocol_options");
  if (options) {
    for (const key of Object.keys(options.value)) {
      if (key !== HTTP_PROTOCOL_OPTIONS) {
        options.unsupported(key);
        continue;
      }
      const protocol = readHttpProtocolOptions(options.child(key)!);
      if (protocol === "downstream") useDownstreamProtocol = true;
      else if (protocol !== undefined) http2 = protocol === 2;
    }
    options.finish();
  }
  const assignment = cluster.child("load_assignment");
  if (!assignment) throw new ConfigError(`${cluster.path}.load_assignment: missing (needed for the endpoint address)`);
  assignment.accept("cluster_name");
  assignment.unsupported("policy");
  const endpoints = assignment.children("endpoints");
  const lbEndpoints = endpoints[0]?.children("lb_endpoints") ?? [];
  const endpoint = lbEndpoints[0]?.child("endpoint");
  const address = endpoint?.child("address");
  if (!address) throw new ConfigError(`${assignment.path}.endpoints[0].lb_endpoints[0].endpoint.address: missing`);
  const { host, port } = socketAddress(address);
  if (type === "STATIC" && isIP(host) === 0) {
    // Envoy parses STATIC endpoints as IP addresses and refuses a name (`malformed IP address`).
    throw new ConfigError(`${address.path}.socket_address.address: "${host}" is not an IP address (a STATIC cluster needs one; use STRICT_DNS or LOGICAL_DNS for a name)`);
  }
  endpoint!.accept("hostname");
  endpoint!.unsupported("health_check_config");
  endpoint!.finish();
  lbEndpoints[0].accept("load_balancing_weight");
  lbEndpoints[0].unsupported("metadata");
  lbEndpoints[0].finish();
  if (lbEndpoints.length > 1 || endpoints.length > 1) assignment.warn("only the first endpoint is used (no load balancing)");
  endpoints[0].accept("locality", "load_balancing_weight", "priority");
  endpoints[0].finish();
  assignment.finish();
  cluster.finish();
  const config: ClusterConfig = {
    name,
    url: new URL(`http://${host.includes(":") ? `[${host}]` : host}:${port}`),
    http2,
    tls,
    filterMetadata: typeof filterMetadata === "object" && filterMetadata !== null ? (filterMetadata as Record<string, unknown>) : undefined,
    connectTimeoutMs: connectTimeout === undefined ? DEFAULT_CONNECT_TIMEOUT_MS : parseDurationMs(connectTimeout, cluster.at("connect_timeout")),
    type: type as NonNullable<ClusterConfig["type"]>,
  };
  if (useDownstreamProtocol) config.useDownstreamProtocol = true;
  return config;
}

/**
 * The HTTP version an `HttpProtocolOptions` asks for (1 or 2), `"downstream"` for
 * `use_downstream_protocol_config`, or undefined when it says nothing.
 */
function readHttpProtocolOptions(options: ConfigReader): 1 | 2 | "downstream" | undefined {
  options.accept("@type");
  options.unsupported("common_http_protocol_options", "ignored (idle timeouts and header limits are Node's)");
  options.unsupported("upstream_http_protocol_options", "ignored (the SNI is the UpstreamTlsContext's sni; auto_sni / auto_san_validation are not supported)");
  options.unsupported("http_filters", "upstream HTTP filters are not supported; ignored");
  let version: 1 | 2 | "downstream" | undefined;
  const explicit = options.child("explicit_http_config");
  if (explicit) {
    if (explicit.has("http3_protocol_options")) throw new ConfigError(`${explicit.at("http3_protocol_options")}: HTTP/3 upstreams are not supported`);
    if (explicit.has("http2_protocol_options")) {
      explicit.raw("http2_protocol_options");
      version = 2;
    } else if (explicit.has("http_protocol_options")) {
      explicit.raw("http_protocol_options");
      version = 1;
    }
    explicit.finish();
  }
  const downstream = options.child("use_downstream_protocol_config");
  if (downstream) {
    downstream.refuse("http3_protocol_options", "HTTP/3 upstreams are not supported");
    downstream.accept("http_protocol_options", "http2_protocol_options");
    downstream.finish();
    version = "downstream";
  }
  if (options.has("auto_config")) {
    throw new ConfigError(`${options.at("auto_config")}: ALPN protocol selection is not supported by the dev proxy; use explicit_http_config`);
  }
  options.finish();
  return version;
}
