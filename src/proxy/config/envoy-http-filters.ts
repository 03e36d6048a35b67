import type { ConfigReader } from "./config-reader";
import { ConfigError, type DevProxyConfig, type SetMetadataFilterConfig, type WasmFilterConfig } from "./dev-proxy-config";
import { readSetMetadataConfig } from "./set-metadata-config";
import { unwrapTypedConfig } from "./typed-struct";
import { readPluginConfig } from "./wasm-plugin-config";

const HTTP_WASM = "envoy.filters.http.wasm";
const HTTP_WASM_TYPE = "envoy.extensions.filters.http.wasm.v3.Wasm";
const SET_METADATA = "envoy.filters.http.set_metadata";
const ROUTER = "envoy.filters.http.router";
const ROUTER_TYPE = "envoy.extensions.filters.http.router.v3.Router";

/**
 * HTTP filters that change nothing a request or response carries when configured as a filter
 * author's bootstrap has them (stats only, or acting only on policies the dev proxy warns about),
 * so skipping them with a warning leaves a run as it would be in Envoy.
 */
const HARMLESS_FILTERS: Record<string, string> = {
  "envoy.filters.http.grpc_stats": "it only keeps gRPC stats",
  "envoy.filters.http.cors": "it acts only on CORS policies of routes, which the dev proxy ignores with a warning",
};

/**
 * Reads the HCM's `http_filters` into `config.filters` (Wasm) and `config.metadataFilters`
 * (set_metadata, placed before the Wasm filter that follows it). The router must be last. A
 * filter with `disabled: true` is skipped with a warning (it could only be enabled per route,
 * which the dev proxy does not support). Any other filter is refused with its path, as it may
 * change requests or responses (a local run would then differ from Envoy's), except the
 * harmless ones above, which are skipped with a warning.
 *
 * @throws ConfigError naming the filter.
 */
export function readHttpFilters(hcm: ConfigReader, config: DevProxyConfig, cwd: string): void {
  const filters = hcm.children("http_filters");
  const routerIndex = filters.findIndex((filter) => filter.value.name === ROUTER);
  if (routerIndex < 0) throw new ConfigError(`${hcm.path}.http_filters: ${ROUTER} is missing (it must be last)`);
  if (routerIndex !== filters.length - 1) throw new ConfigError(`${hcm.path}.http_filters: ${ROUTER} must be the last filter`);
  const wasmFilters: WasmFilterConfig[] = [];
  const metadataFilters: SetMetadataFilterConfig[] = [];
  for (const filter of filters) {
    const name = filter.string("name") ?? "(unnamed)";
    filter.accept("is_optional");
    if (name === ROUTER) {
      const typed = filter.child("typed_config");
      if (typed) readRouterConfig(unwrapTypedConfig(typed, ROUTER_TYPE), config);
      filter.finish();
      continue;
    }
    if (filter.boolean("disabled") === true) {
      filter.accept("typed_config", "config_discovery");
      filter.warn(`HTTP filter ${name} is disabled (it can only be enabled per route, which the dev proxy does not support); not run`);
      filter.finish();
      continue;
    }
    filter.refuse("config_discovery", "ECDS is not supported; give typed_config");
    const typedConfig = filter.child("typed_config");
    if (name === HTTP_WASM) {
      if (!typedConfig) throw new ConfigError(`${filter.path}.typed_config: missing`);
      const typed = unwrapTypedConfig(typedConfig, HTTP_WASM_TYPE);
      const plugin = typed.child("config");
      if (!plugin) throw new ConfigError(`${typed.path}.config: missing PluginConfig`);
      wasmFilters.push(readPluginConfig(plugin, cwd));
      typed.finish();
    } else if (name === SET_METADATA) {
      if (!typedConfig) throw new ConfigError(`${filter.path}.typed_config: missing`);
      metadataFilters.push({ position: wasmFilters.length, entries: readSetMetadataConfig(typedConfig) });
    } else if (HARMLESS_FILTERS[name] !== undefined) {
      filter.warn(`HTTP filter ${name} is not supported by the dev proxy; skipped (${HARMLESS_FILTERS[name]})`);
    } else {
      throw new ConfigError(`${filter.path}: HTTP filter ${name} is not supported by the dev proxy (it may change requests or responses; supported: ${HTTP_WASM}, ${SET_METADATA}, ${ROUTER})`);
    }
    filter.finish();
  }
  config.filters = wasmFilters;
  if (metadataFilters.length > 0) config.metadataFilters = metadataFilters;
}

/**
 * The router's own config: `suppress_envoy_headers` (no `x-envoy-expected-rq-timeout-ms`, no
 * `x-envoy-original-path` upstream; envoy source/common/router/router.cc); stats and tracing
 * options are accepted without effect; the rest is named in a warning.
 */
function readRouterConfig(router: ConfigReader, config: DevProxyConfig): void {
  if (router.boolean("suppress_envoy_headers") === true) config.suppressEnvoyHeaders = true;
  router.accept("dynamic_stats", "start_child_span", "suppress_grpc_request_failure_code_stats");
  router.unsupported("upstream_log", "upstream access logs are not written; ignored");
  router.refuse("upstream_http_filters", "upstream HTTP filters are not supported by the dev proxy");
  router.finish();
}
