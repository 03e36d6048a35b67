import type { ConfigReader } from "./config-reader";
import { ConfigError, type WasmServiceConfig } from "./dev-proxy-config";
import { unwrapTypedConfig } from "./typed-struct";
import { readPluginConfig } from "./wasm-plugin-config";

const WASM_SERVICE = "envoy.bootstrap.wasm";
const WASM_SERVICE_TYPE = "envoy.extensions.wasm.v3.WasmService";

/**
 * Reads the bootstrap's `bootstrap_extensions`: each `envoy.bootstrap.wasm` (a
 * `extensions.wasm.v3.WasmService`, plain or in a TypedStruct) becomes a wasm service: its
 * PluginConfig and `singleton` (default false: one VM per worker thread, as in Envoy,
 * source/extensions/bootstrap/wasm/config.cc). Other extensions are named in a warning (they do
 * not touch HTTP traffic).
 *
 * @throws ConfigError for a wasm service without `config`, or a PluginConfig the proxy refuses.
 */
export function readBootstrapExtensions(root: ConfigReader, cwd: string): WasmServiceConfig[] {
  const services: WasmServiceConfig[] = [];
  for (const extension of root.children("bootstrap_extensions")) {
    const name = extension.string("name") ?? "(unnamed)";
    if (name !== WASM_SERVICE) {
      extension.accept("typed_config");
      extension.warn(`bootstrap extension ${name} is not supported by the dev proxy; ignored`);
      extension.finish();
      continue;
    }
    const typedConfig = extension.child("typed_config");
    if (!typedConfig) throw new ConfigError(`${extension.path}.typed_config: missing`);
    const service = unwrapTypedConfig(typedConfig, WASM_SERVICE_TYPE);
    const singleton = service.boolean("singleton") ?? false;
    const plugin = service.child("config");
    if (!plugin) throw new ConfigError(`${service.path}.config: missing PluginConfig`);
    services.push({ ...readPluginConfig(plugin, cwd), singleton });
    service.finish();
    extension.finish();
  }
  return services;
}
