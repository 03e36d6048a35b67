import { ConfigReader, parseDurationMs } from "./config-reader";
import { ConfigError, type ListenerConfig, type WasmFilterConfig } from "./dev-proxy-config";
import { socketAddress } from "./socket-address";
import { readDownstreamTransportSocket, type DownstreamTlsConfig } from "./tls-config";
import { unwrapTypedConfig } from "./typed-struct";
import { readPluginConfig } from "./wasm-plugin-config";

/**
 * A TCP listener of an Envoy bootstrap: network filters (`envoy.filters.network.wasm`, any number,
 * in order) in front of a terminal filter, `envoy.filters.network.tcp_proxy` or
 * `envoy.filters.network.direct_response`, optionally behind TLS. Envoy's documentation:
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/network_filters/tcp_proxy_filter
 * and .../network_filters/wasm_filter.
 */
export interface TcpListenerConfig {
  /** Listener `name` (logs, stats). */
  name: string;
  address: ListenerConfig;
  /** The chain's `transport_socket` TLS, or null for plaintext. */
  tls: DownstreamTlsConfig | null;
  /** The network Wasm filters, first to last (reads run in this order, writes in reverse). */
  filters: WasmFilterConfig[];
  terminal: TcpProxyConfig | DirectResponseConfig;
}

/** `envoy.filters.network.tcp_proxy` (envoy api/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto). */
export interface TcpProxyConfig {
  kind: "tcp_proxy";
  /** Stats are `tcp.<stat_prefix>.*`. */
  statPrefix: string;
  /** The cluster, unless a filter sets the filter state `envoy.tcp_proxy.cluster`. */
  cluster: string;
  /** Where `cluster` is in the bootstrap, for messages. */
  clusterPath: string;
  /** Envoy's `idle_timeout` (default 1 h); 0 disables it. */
  idleTimeoutMs: number;
}

/** `envoy.filters.network.direct_response`: writes `response` to every connection, then closes it. */
export interface DirectResponseConfig {
  kind: "direct_response";
  response: Buffer;
}

const HCM = "envoy.filters.network.http_connection_manager";
const NETWORK_WASM = "envoy.filters.network.wasm";
const TCP_PROXY = "envoy.filters.network.tcp_proxy";
const DIRECT_RESPONSE = "envoy.filters.network.direct_response";
/** The message each filter's typed_config holds (what a TypedStruct's `type_url` must name). */
const CONFIG_TYPES: Record<string, string> = {
  [NETWORK_WASM]: "envoy.extensions.filters.network.wasm.v3.Wasm",
  [TCP_PROXY]: "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
  [DIRECT_RESPONSE]: "envoy.extensions.filters.network.direct_response.v3.Config",
};
/** Envoy's default tcp_proxy idle timeout (tcp_proxy.cc: 1 hour when the field is absent). */
export const DEFAULT_TCP_IDLE_TIMEOUT_MS = 3_600_000;

/** True when the listener's first filter chain has no HTTP connection manager: a TCP listener. */
export function isTcpListener(listener: unknown): boolean {
  const chains = (listener as { filter_chains?: unknown } | null)?.filter_chains;
  if (!Array.isArray(chains) || chains.length === 0) return false;
  const filters = (chains[0] as { filters?: unknown } | null)?.filters;
  if (!Array.isArray(filters) || filters.length === 0) return false;
  return !filters.some((filter) => (filter as { name?: unknown } | null)?.name === HCM);
}

/**
 * Reads one TCP listener. `cwd` resolves module and certificate paths, as Envoy does.
 *
 * @throws ConfigError for what cannot run as Envoy would: no terminal filter, a filter after it, a
 *   network filter the dev proxy does not have, a wasm filter without local code.
 */
export function readTcpListener(listener: ConfigReader, cwd: string): TcpListenerConfig {
  const name = listener.string("name") ?? "";
  const address = listener.child("address");
  if (!address) throw new ConfigError(`${listener.path}.address: missing`);
  const listenAddress = socketAddress(address);
  for (const filter of listener.children("listener_filters")) {
    filter.accept("typed_config");
    const filterName = filter.string("name");
    if (filterName === "envoy.filters.listener.tls_inspector") filter.warn("the TLS inspector is not needed by the dev proxy; ignored");
    else filter.warn(`listener filter ${filterName ?? "(unnamed)"} is not supported; ignored`);
    filter.finish();
  }
  listener.unsupported("per_connection_buffer_limit_bytes");
  listener.unsupported("connection_balance_config");
  const chains = listener.children("filter_chains");
  for (const extra of chains.slice(1)) extra.warn("only the first filter chain is used; this one is ignored");
  const chain = chains[0];
  chain.accept("name");
  chain.unsupported("filter_chain_match");
  const tls = readDownstreamTransportSocket(chain.child("transport_socket"), cwd);
  const filters: WasmFilterConfig[] = [];
  let terminal: TcpProxyConfig | DirectResponseConfig | null = null;
  for (const filter of chain.children("filters")) {
    const filterName = filter.string("name");
    if (terminal !== null) throw new ConfigError(`${filter.path}: ${filterName ?? "(unnamed)"} comes after the terminal filter ${terminalName(terminal)}`);
    const configType = filterName === undefined ? undefined : CONFIG_TYPES[filterName];
    if (configType === undefined) {
      throw new ConfigError(`${filter.path}: network filter ${filterName ?? "(unnamed)"} is not supported by the dev proxy (it has ${NETWORK_WASM}, ${TCP_PROXY} and ${DIRECT_RESPONSE})`);
    }
    const typed = filter.child("typed_config");
    if (!typed) throw new ConfigError(`${filter.path}.typed_config: missing`);
    // A TypedStruct is read as the message it holds (typed-struct.ts), as for HTTP filters.
    const config = unwrapTypedConfig(typed, configType);
    if (filterName === NETWORK_WASM) {
      const plugin = config.child("config");
      if (!plugin) throw new ConfigError(`${config.path}.config: missing PluginConfig`);
      filters.push(readPluginConfig(plugin, cwd));
    } else if (filterName === TCP_PROXY) {
      terminal = readTcpProxy(config);
    } else {
      terminal = { kind: "direct_response", response: directResponseBody(config.child("response")) };
    }
    config.finish();
    filter.finish();
  }
  if (terminal === null) throw new ConfigError(`${chain.path}.filters: no terminal filter (${TCP_PROXY} or ${DIRECT_RESPONSE}) at the end`);
  chain.finish();
  listener.finish();
  return { name, address: listenAddress, tls, filters, terminal };
}

function terminalName(terminal: TcpProxyConfig | DirectResponseConfig): string {
  return terminal.kind === "tcp_proxy" ? TCP_PROXY : DIRECT_RESPONSE;
}

function readTcpProxy(config: ConfigReader): TcpProxyConfig {
  const statPrefix = config.string("stat_prefix");
  if (statPrefix === undefined) throw new ConfigError(`${config.path}.stat_prefix: missing (Envoy requires it)`);
  const cluster = config.string("cluster");
  if (config.has("weighted_clusters")) throw new ConfigError(`${config.at("weighted_clusters")}: not supported by the dev proxy; name one cluster`);
  if (cluster === undefined) throw new ConfigError(`${config.path}.cluster: missing`);
  for (const key of ["tunneling_config", "on_demand", "hash_policy", "metadata_match"]) {
    if (config.has(key)) throw new ConfigError(`${config.at(key)}: not supported by the dev proxy (it changes where or how bytes go)`);
  }
  const idle = config.string("idle_timeout");
  const attempts = config.number("max_connect_attempts");
  if (attempts !== undefined && attempts > 1) config.warn(`max_connect_attempts ${attempts}: the dev proxy connects once`);
  config.unsupported("access_log");
  config.unsupported("access_log_options");
  config.unsupported("max_downstream_connection_duration");
  config.unsupported("downstream_idle_timeout");
  config.unsupported("upstream_idle_timeout");
  config.unsupported("backoff_options");
  return { kind: "tcp_proxy", statPrefix, cluster, clusterPath: config.at("cluster"), idleTimeoutMs: idle === undefined ? DEFAULT_TCP_IDLE_TIMEOUT_MS : parseDurationMs(idle, config.at("idle_timeout")) };
}

function directResponseBody(source: ConfigReader | undefined): Buffer {
  if (!source) return Buffer.alloc(0);
  const inlineString = source.string("inline_string");
  const inlineBytes = source.string("inline_bytes");
  if (source.has("filename")) throw new ConfigError(`${source.at("filename")}: give the response inline (inline_string or inline_bytes)`);
  source.finish();
  if (inlineString !== undefined) return Buffer.from(inlineString);
  if (inlineBytes !== undefined) return Buffer.from(inlineBytes, "base64");
  return Buffer.alloc(0);
}
