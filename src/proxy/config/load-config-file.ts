import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { resolve as resolvePath } from "node:path";
import { accessLogFromFlag } from "./access-log-config";
import { ConfigReader } from "./config-reader";
import {
  bufferLimitOf,
  ConfigError,
  DEFAULT_CLUSTER,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_ROUTE_TIMEOUT_MS,
  defaultConfig,
  type ClusterConfig,
  type DevProxyConfig,
  type ListenerConfig,
  type WasmFilterConfig,
} from "./dev-proxy-config";
import { configFromEnvoyBootstrap, isEnvoyBootstrap } from "./envoy-bootstrap";
import { configurationBytes, configurationIsText, failurePolicyOf, wasmPathOf } from "./wasm-filter-fields";
import { parseLogLevel } from "../proxy-logger";

/**
 * Reads a dev proxy config file: YAML or JSON (JSON is YAML), either an Envoy v3 static
 * bootstrap (detected by `static_resources`) or the dev proxy's own small format:
 *
 * ```yaml
 * listen: 127.0.0.1:10000          # host:port or a port
 * admin: 127.0.0.1:9901            # or false
 * upstream: http://127.0.0.1:8080  # default route; the echo upstream when absent
 * clusters:                        # names for callouts (and routes)
 *   httpbin: http://127.0.0.1:8081
 *   grpc: { url: http://127.0.0.1:50051, http2: true, connect_timeout_ms: 1000 }
 * routes: [{ prefix: /, cluster: upstream, timeout_ms: 15000 }]
 * filters:
 *   - wasm: build/filter.wasm      # relative to the config file
 *     name: add_header
 *     root_id: ""
 *     vm_id: ""
 *     configuration: { name: x-added, value: "1" }   # a mapping is sent as JSON, a string as is
 *     vm_configuration: ""
 *     failure_policy: FAIL_CLOSED
 * log_level: info
 * concurrency: 1
 * hot_reload: false
 * callback_time_limit_ms: 5000
 * buffer_limit_bytes: 1048576      # per stream and direction a filter may buffer; 0 = no limit
 * access_log: access.log          # Envoy's default format; "-" is stdout; relative to the file
 * ```
 *
 * Unknown fields come back in `warnings`. Envoy bootstraps resolve module paths against `cwd`
 * (as Envoy does); the small format resolves them against the file's directory.
 *
 * @throws ConfigError when the file cannot be read or parsed, or describes something impossible.
 */
export function loadConfigFile(path: string, cwd = process.cwd()): { config: DevProxyConfig; warnings: string[] } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    // Merge keys (`<<: *anchor`) as Envoy's YAML loader (yaml-cpp) reads them; bootstraps use them.
    document = parseYaml(text, { merge: true });
  } catch (error) {
    throw new ConfigError(`${path}: not valid YAML or JSON: ${(error as Error).message}`);
  }
  if (isEnvoyBootstrap(document)) return configFromEnvoyBootstrap(document, cwd);
  return configFromDevProxyFile(document, dirnameOf(path));
}

function dirnameOf(path: string): string {
  const index = path.lastIndexOf("/");
  return index < 0 ? "." : path.slice(0, index) || "/";
}

/** Reads the dev proxy's own format (see `loadConfigFile`); paths resolve against `baseDir`. */
export function configFromDevProxyFile(document: unknown, baseDir: string): { config: DevProxyConfig; warnings: string[] } {
  const warnings: string[] = [];
  const root = ConfigReader.of(document ?? {}, "", warnings);
  const config = defaultConfig();

  const listen = root.string("listen");
  if (listen !== undefined) config.listener = parseHostPort(listen, "listen");
  const admin = root.raw("admin");
  if (admin === false) config.admin = null;
  else if (admin !== undefined) config.admin = parseHostPort(String(admin), "admin");

  const clusters: ClusterConfig[] = [];
  const upstream = root.string("upstream");
  if (upstream !== undefined) {
    clusters.push(clusterFromUrl(DEFAULT_CLUSTER, upstream, "upstream"));
    config.echoUpstream = false;
  }
  const clusterMap = root.child("clusters");
  if (clusterMap) {
    for (const name of Object.keys(clusterMap.value)) {
      const value = clusterMap.raw(name);
      if (typeof value === "string") {
        clusters.push(clusterFromUrl(name, value, clusterMap.at(name)));
        continue;
      }
      const entry = ConfigReader.of(value, clusterMap.at(name), warnings);
      const url = entry.string("url");
      if (url === undefined) throw new ConfigError(`${entry.path}.url: missing`);
      const cluster = clusterFromUrl(name, url, entry.at("url"));
      cluster.http2 = entry.boolean("http2") ?? false;
      cluster.connectTimeoutMs = entry.number("connect_timeout_ms") ?? DEFAULT_CONNECT_TIMEOUT_MS;
      entry.finish();
      clusters.push(cluster);
    }
    const duplicate = clusters.find((c, i) => clusters.findIndex((d) => d.name === c.name) !== i);
    if (duplicate) throw new ConfigError(`clusters: "${duplicate.name}" is defined twice (\`upstream\` defines "${DEFAULT_CLUSTER}")`);
  }
  config.clusters = clusters;

  const routes = root.children("routes");
  if (routes.length > 0) {
    config.routes = routes.map((route) => {
      const prefix = route.string("prefix") ?? "/";
      const cluster = route.string("cluster") ?? DEFAULT_CLUSTER;
      const timeoutMs = route.number("timeout_ms") ?? DEFAULT_ROUTE_TIMEOUT_MS;
      route.finish();
      const known = cluster === DEFAULT_CLUSTER ? true : clusters.some((c) => c.name === cluster);
      if (!known) throw new ConfigError(`${route.path}.cluster: "${cluster}" is not defined in clusters`);
      return { prefix, cluster, timeoutMs };
    });
  }

  config.filters = root.children("filters").map((filter) => readFilter(filter, baseDir, warnings));

  const level = root.string("log_level");
  if (level !== undefined) {
    const parsed = parseLogLevel(level);
    if (parsed === undefined) throw new ConfigError(`log_level: unknown level "${level}"`);
    config.logLevel = parsed;
  }
  config.concurrency = positiveInteger(root.number("concurrency") ?? 1, "concurrency");
  config.hotReload = root.boolean("hot_reload") ?? false;
  const accessLog = root.string("access_log");
  if (accessLog !== undefined) config.accessLogs = [accessLogFromFlag(accessLog === "-" ? accessLog : resolvePath(baseDir, accessLog))];
  config.callbackTimeLimitMs = positiveInteger(root.number("callback_time_limit_ms") ?? config.callbackTimeLimitMs, "callback_time_limit_ms");
  if (root.has("buffer_limit_bytes")) config.bufferLimitBytes = bufferLimitOf(root.number("buffer_limit_bytes"), "buffer_limit_bytes");
  root.finish();
  return { config, warnings };
}

function readFilter(filter: ConfigReader, baseDir: string, warnings: string[]): WasmFilterConfig {
  const wasm = filter.string("wasm");
  if (wasm === undefined) throw new ConfigError(`${filter.path}.wasm: missing (path of the .wasm module)`);
  const config: WasmFilterConfig = {
    name: filter.string("name") ?? "",
    rootId: filter.string("root_id") ?? "",
    vmId: filter.string("vm_id") ?? "",
    wasmPath: wasmPathOf(wasm, baseDir),
    pluginConfiguration: configurationBytes(filter.raw("configuration"), filter.at("configuration"), warnings),
    pluginConfigurationOrigin: { where: filter.at("configuration"), asWritten: configurationIsText(filter.raw("configuration")) },
    vmConfiguration: configurationBytes(filter.raw("vm_configuration"), filter.at("vm_configuration"), warnings),
    failurePolicy: failurePolicyOf(filter, "failure_policy", undefined),
    allowOnHeadersStopIteration: filter.boolean("allow_on_headers_stop_iteration") ?? false,
  };
  filter.finish();
  return config;
}

/** Parses `host:port`, `:port` or `port` (host defaults to 127.0.0.1). */
export function parseHostPort(text: string, where: string): ListenerConfig {
  const match = /^(?:(\[[^\]]+\]|[^:]*):)?(\d+)$/.exec(text.trim());
  if (!match) throw new ConfigError(`${where}: expected host:port or a port, got "${text}"`);
  const port = Number(match[2]);
  if (port > 65535) throw new ConfigError(`${where}: port ${port} is out of range`);
  const host = match[1] ? match[1].replace(/^\[|\]$/g, "") : "127.0.0.1";
  return { host, port };
}

/** A cluster from an `http://host:port` URL. */
export function clusterFromUrl(name: string, text: string, where: string): ClusterConfig {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${where}: not a URL: "${text}"`);
  }
  if (url.protocol !== "http:") throw new ConfigError(`${where}: only http:// upstreams are supported, got ${url.protocol}//`);
  if (url.pathname !== "/" || url.search !== "") throw new ConfigError(`${where}: give only scheme, host and port (no path), got "${text}"`);
  return { name, url, http2: false, connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS };
}

function positiveInteger(value: number, where: string): number {
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(`${where}: expected a positive integer, got ${value}`);
  return value;
}
