import { DeployConfigError } from "./deploy-error";
import type { FailurePolicy } from "./failure-policy";
import type { PluginConfiguration } from "./plugin-configuration";

// Typed shapes of the Envoy v3 bootstrap fields this builder emits (snake_case, as Envoy reads YAML).

export interface SocketAddress {
  socket_address: { address: string; port_value: number };
}

export interface StringValueAny {
  "@type": "type.googleapis.com/google.protobuf.StringValue";
  value: string;
}

export interface WasmVmConfig {
  vm_id: string;
  runtime?: string;
  code:
    | { local: { filename: string } }
    | {
        remote: {
          http_uri: { uri: string; cluster: string; timeout: string };
          sha256: string;
          retry_policy: { num_retries: number; retry_back_off: { base_interval: string; max_interval: string } };
        };
      };
}

/** `envoy.extensions.wasm.v3.PluginConfig`. */
export interface WasmPluginConfig {
  name: string;
  root_id: string;
  vm_config: WasmVmConfig;
  configuration?: StringValueAny;
  failure_policy: FailurePolicy;
}

export interface HttpFilter {
  name: string;
  typed_config: { "@type": string; config?: WasmPluginConfig };
}

export interface HttpConnectionManager {
  "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
  stat_prefix: string;
  codec_type: "AUTO";
  route_config: {
    name: string;
    virtual_hosts: { name: string; domains: string[]; routes: { match: { prefix: string }; route: { cluster: string } }[] }[];
  };
  http_filters: HttpFilter[];
}

export interface Listener {
  name: string;
  address: SocketAddress;
  filter_chains: { filters: { name: string; typed_config: HttpConnectionManager }[] }[];
}

export interface Cluster {
  name: string;
  type: "STRICT_DNS";
  connect_timeout: string;
  load_assignment: { cluster_name: string; endpoints: { lb_endpoints: { endpoint: { address: SocketAddress } }[] }[] };
  typed_extension_protocol_options?: Record<string, unknown>;
  transport_socket?: { name: string; typed_config: { "@type": string; sni: string } };
}

export interface EnvoyBootstrap {
  admin: { address: SocketAddress };
  static_resources: { listeners: Listener[]; clusters: Cluster[] };
}

/** A cluster a filter calls with `httpCall`/`grpcCall` (the name is the callout's `upstream`). */
export interface CalloutCluster {
  name: string;
  host: string;
  port: number;
  /** HTTPS: adds an UpstreamTlsContext with `sni` = host. */
  tls?: boolean;
  /** gRPC: the cluster speaks HTTP/2. */
  http2?: boolean;
}

export interface HostPort {
  host: string;
  port: number;
}

export interface EnvoyBootstrapOptions {
  /** PluginConfig `name` (logs, stats). */
  name: string;
  rootId?: string;
  vmId?: string;
  /** Omitted by default: official Envoy has V8 only, Homebrew WAMR, Nix wasmtime (§1.6). */
  runtime?: string;
  /** Local module path (as Envoy resolves it: relative to its working directory), or a remote URL with its sha256. */
  code: { filename: string } | { url: string; sha256: string };
  configuration?: PluginConfiguration;
  failurePolicy: FailurePolicy;
  /** Default 0.0.0.0:10000. */
  listen?: HostPort;
  /** Default 127.0.0.1:9901. */
  admin?: HostPort;
  /** Where the `/` route goes (cluster `backend`); default 127.0.0.1:8080. */
  upstream?: HostPort;
  clusters?: CalloutCluster[];
}

const HCM_TYPE = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const WASM_TYPE = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
const ROUTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";
const TLS_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
const HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
export const BACKEND_CLUSTER = "backend";
const CODE_CLUSTER = "wasm_code";

/**
 * A static Envoy bootstrap serving one listener through the Wasm filter then the router
 * (deployment doc §1.5): admin on 127.0.0.1:9901, the `/` route to cluster `backend`, one cluster
 * per callout upstream, and for remote code a `wasm_code` cluster the module is fetched from
 * (with retries, since Envoy's default gives up after one retry until the next config push).
 *
 * @throws DeployConfigError for a duplicate or reserved cluster name, or a bad remote URL/sha256.
 */
export function buildEnvoyBootstrap(options: EnvoyBootstrapOptions): EnvoyBootstrap {
  const clusters: Cluster[] = [cluster(BACKEND_CLUSTER, options.upstream ?? { host: "127.0.0.1", port: 8080 })];
  for (const callout of options.clusters ?? []) clusters.push(calloutCluster(callout));

  let code: WasmVmConfig["code"];
  if ("filename" in options.code) {
    code = { local: { filename: options.code.filename } };
  } else {
    const { url, sha256 } = options.code;
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new DeployConfigError(`sha256: expected the module's 64 lower-case hex digits, got "${sha256}"`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new DeployConfigError(`code URL: not a URL: "${url}"`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new DeployConfigError(`code URL: Envoy fetches http:// or https:// only, got ${parsed.protocol}//`);
    const tls = parsed.protocol === "https:";
    clusters.push(calloutCluster({ name: CODE_CLUSTER, host: parsed.hostname, port: Number(parsed.port || (tls ? 443 : 80)), tls }));
    code = {
      remote: {
        http_uri: { uri: url, cluster: CODE_CLUSTER, timeout: "10s" },
        sha256,
        retry_policy: { num_retries: 10, retry_back_off: { base_interval: "1s", max_interval: "30s" } },
      },
    };
  }
  const names = clusters.map((c) => c.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) throw new DeployConfigError(`cluster "${duplicate}" is defined twice (${BACKEND_CLUSTER} and ${CODE_CLUSTER} are reserved)`);

  const vmConfig: WasmVmConfig = { vm_id: options.vmId ?? options.name, code };
  if (options.runtime !== undefined) vmConfig.runtime = options.runtime;
  const plugin: WasmPluginConfig = { name: options.name, root_id: options.rootId ?? "", vm_config: vmConfig, failure_policy: options.failurePolicy };
  if (options.configuration !== undefined) {
    plugin.configuration = { "@type": "type.googleapis.com/google.protobuf.StringValue", value: options.configuration.text };
  }
  // Key order chosen so the YAML reads top-down the way the docs describe a PluginConfig.
  const orderedPlugin: WasmPluginConfig = {
    name: plugin.name,
    root_id: plugin.root_id,
    vm_config: plugin.vm_config,
    ...(plugin.configuration ? { configuration: plugin.configuration } : {}),
    failure_policy: plugin.failure_policy,
  };

  const listen = options.listen ?? { host: "0.0.0.0", port: 10000 };
  const admin = options.admin ?? { host: "127.0.0.1", port: 9901 };
  return {
    admin: { address: socket(admin) },
    static_resources: {
      listeners: [
        {
          name: "main",
          address: socket(listen),
          filter_chains: [
            {
              filters: [
                {
                  name: "envoy.filters.network.http_connection_manager",
                  typed_config: {
                    "@type": HCM_TYPE,
                    stat_prefix: "ingress_http",
                    codec_type: "AUTO",
                    route_config: {
                      name: "local_route",
                      virtual_hosts: [{ name: "all", domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: BACKEND_CLUSTER } }] }],
                    },
                    http_filters: [
                      { name: "envoy.filters.http.wasm", typed_config: { "@type": WASM_TYPE, config: orderedPlugin } },
                      { name: "envoy.filters.http.router", typed_config: { "@type": ROUTER_TYPE } },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters,
    },
  };
}

function socket({ host, port }: HostPort): SocketAddress {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DeployConfigError(`port ${port} is out of range`);
  return { socket_address: { address: host, port_value: port } };
}

function cluster(name: string, address: HostPort): Cluster {
  return {
    name,
    type: "STRICT_DNS",
    connect_timeout: "5s",
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: socket(address) } }] }] },
  };
}

function calloutCluster(callout: CalloutCluster): Cluster {
  if (!/^[A-Za-z0-9_.|:-]+$/.test(callout.name)) throw new DeployConfigError(`cluster name "${callout.name}": use letters, digits and _ . - | :`);
  const result = cluster(callout.name, callout);
  if (callout.http2) {
    result.typed_extension_protocol_options = {
      [HTTP_OPTIONS]: { "@type": `type.googleapis.com/${HTTP_OPTIONS}`, explicit_http_config: { http2_protocol_options: {} } },
    };
  }
  if (callout.tls) result.transport_socket = { name: "envoy.transport_sockets.tls", typed_config: { "@type": TLS_TYPE, sni: callout.host } };
  return result;
}
