import type { ConfigReader } from "./config-reader";
import { ConfigError, type WasmFilterConfig } from "./dev-proxy-config";
import { configurationBytes, configurationIsText, failurePolicyOf, wasmPathOf } from "./wasm-filter-fields";

/**
 * Reads an Envoy `extensions.wasm.v3.PluginConfig` (the `config` of an HTTP or network Wasm filter,
 * or of a wasm service): name, root_id, vm_config (vm_id, runtime, local code, configuration),
 * configuration, failure_policy / fail_open and allow_on_headers_stop_iteration. `cwd` resolves a
 * relative `code.local.filename`, as Envoy resolves it against its working directory.
 *
 * @throws ConfigError for a missing vm_config or code, or code that is not a local file.
 */
export function readPluginConfig(plugin: ConfigReader, cwd: string): WasmFilterConfig {
  const warnings: string[] = [];
  const name = plugin.string("name") ?? "";
  const rootId = plugin.string("root_id") ?? "";
  const vm = plugin.child("vm_config");
  if (!vm) throw new ConfigError(`${plugin.path}.vm_config: missing`);
  const vmId = vm.string("vm_id") ?? "";
  const runtime = vm.string("runtime");
  if (runtime !== undefined && runtime !== "envoy.wasm.runtime.v8") {
    vm.warn(`runtime ${runtime}: the dev proxy always runs modules on Node's V8`);
  }
  const code = vm.child("code");
  if (!code) throw new ConfigError(`${vm.path}.code: missing`);
  code.unsupported("remote", "remote code is not supported; use code.local.filename");
  const local = code.child("local");
  const filename = local?.string("filename");
  if (local) {
    local.unsupported("inline_bytes");
    local.unsupported("inline_string");
    local.unsupported("environment_variable");
    local.finish();
  }
  if (filename === undefined) throw new ConfigError(`${code.path}.local.filename: missing (only local files are supported)`);
  code.finish();
  const vmConfiguration = configurationBytes(vm.raw("configuration"), vm.at("configuration"), warnings);
  vm.unsupported("environment_variables", "environment variables are not passed to the module yet; ignored");
  vm.unsupported("allow_precompiled");
  vm.unsupported("nack_on_code_cache_miss");
  vm.unsupported("capability_restriction_config");
  vm.finish();

  const pluginConfiguration = configurationBytes(plugin.raw("configuration"), plugin.at("configuration"), warnings);
  const failOpen = plugin.boolean("fail_open");
  const failurePolicy = failurePolicyOf(plugin, "failure_policy", failOpen);
  plugin.unsupported("reload_config", "the reload back-off is fixed (1 s base)");
  plugin.unsupported("capability_restriction_config");
  const allow = plugin.raw("allow_on_headers_stop_iteration");
  plugin.finish();
  for (const warning of warnings) plugin.warn(warning);
  return {
    name,
    rootId,
    vmId,
    wasmPath: wasmPathOf(filename, cwd),
    pluginConfiguration,
    pluginConfigurationOrigin: { where: plugin.at("configuration"), asWritten: configurationIsText(plugin.raw("configuration")) },
    vmConfiguration,
    failurePolicy,
    allowOnHeadersStopIteration: allow === true || (typeof allow === "object" && allow !== null && (allow as { value?: unknown }).value === true),
  };
}
