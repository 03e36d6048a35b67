// vm_plugin_configuration: logs the VM configuration when the VM starts and the plugin
// configuration each time it is applied. Both are shown as text, whatever their format.
import { RootContext, HttpContext, registerRoot, log } from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

class ConfigurationLogger extends RootContext {
  onVmStart(vmConfigurationSize: u32): bool {
    log.info("vm config: " + this.vmConfigurationText());
    return true;
  }

  onConfigure(pluginConfigurationSize: u32): bool {
    // The plugin configuration is only readable in this callback: copy it if needed later.
    log.info("plugin config: " + this.pluginConfigurationText());
    return true;
  }

  // The filter only logs configuration, but Envoy still creates a context per HTTP stream:
  // hand it one that lets every stream through untouched.
  createHttpContext(contextId: u32): HttpContext {
    return new HttpContext(contextId, this);
  }
}

registerRoot("", (contextId: u32): RootContext => new ConfigurationLogger(contextId));
