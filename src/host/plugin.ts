/**
 * A plugin bound to a VM: its root context's lifecycle (reference §4.3, §4.7) and the creation of
 * stream contexts under it (§4.4).
 */
import { EMPTY_BYTES, toBytes, type BytesLike } from "./bytes";
import { Context } from "./context";
import type { PluginInfo, PropertyTree } from "./plugin-info";
import type { Vm } from "./vm";

export interface PluginOptions {
  /** Envoy `name`; default "". */
  readonly name?: string;
  /** Envoy `root_id`; default "". */
  readonly rootId?: string;
  /** Plugin configuration (buffer 7). */
  readonly configuration?: BytesLike;
  /** Envoy ≥ 1.35 `allow_on_headers_stop_iteration`; default false. */
  readonly allowOnHeadersStopIteration?: boolean;
  /** Extra property values (e.g. `xds`, legacy top-level names) layered over the computed ones. */
  readonly properties?: PropertyTree;
}

/** Why a plugin did not start. */
export class PluginStartError extends Error {
  override name = "PluginStartError";
  constructor(message: string, readonly stage: "module_start" | "vm_start" | "configure", readonly failure: string | undefined) {
    super(failure === undefined ? message : `${message}\n${failure}`);
  }
}

export class Plugin {
  readonly info: PluginInfo;
  /** The root context, created by `start`. */
  root!: Context;

  constructor(readonly vm: Vm, options: PluginOptions = {}) {
    this.info = {
      name: options.name ?? "",
      rootId: options.rootId ?? "",
      vmId: vm.vmId,
      configuration: options.configuration === undefined ? EMPTY_BYTES : toBytes(options.configuration),
      allowOnHeadersStopIteration: options.allowOnHeadersStopIteration ?? false,
      properties: options.properties ?? {},
    };
  }

  /**
   * Creates the root context and runs `proxy_on_context_create(root, 0)`,
   * `proxy_on_vm_start(root, vm_config_size)` and `proxy_on_configure(root, plugin_config_size)`.
   * Throws PluginStartError when one returns 0 or traps (Envoy rejects the configuration).
   */
  start(): void {
    const vm = this.vm;
    const root = new Context(vm.allocateContextId(), "root", this.info, null);
    this.root = root;
    vm.addContext(root);
    root.configurationReadable = true;
    vm.invoke("proxy_on_context_create", vm.callback("proxy_on_context_create"), root, root.id, 0);
    root.configurationReadable = false;
    this.check("vm_start");
    const started = vm.invoke("proxy_on_vm_start", vm.callback("proxy_on_vm_start"), root, root.id, vm.vmConfiguration.length);
    this.check("vm_start");
    if (started === 0) throw new PluginStartError("Failed to start base Wasm in proxy_on_vm_start", "vm_start", undefined);
    this.configure();
  }

  /**
   * `proxy_on_configure(root, plugin_config_size)` on the plugin's root context, the plugin
   * configuration readable during the call: the last step of `start`, and on its own what
   * proxy-wasm-cpp-host's `WasmBase::configure(root_context, plugin)` does when `start` found the
   * root context of the same plugin key (name, root_id, vm_id and configuration) already on the
   * VM (src/wasm.cc, `getOrCreateThreadLocalPlugin`; `ContextBase::onConfigure` in src/context.cc).
   * Legal once `start` succeeded, while the root context exists and the VM has not failed (throws
   * a plain Error otherwise). Throws PluginStartError when the callback returns 0 or traps.
   */
  configure(): void {
    const vm = this.vm;
    const root = this.root;
    if (root === undefined || root.deleted) throw new Error("configure: the plugin has no root context (not started, or shut down)");
    if (vm.failed) throw new Error("configure: the VM has failed; no callback can run on it");
    root.configurationReadable = true;
    let configured: number | undefined;
    try {
      configured = vm.invoke("proxy_on_configure", vm.callback("proxy_on_configure"), root, root.id, this.info.configuration.length);
    } finally {
      root.configurationReadable = false;
    }
    this.check("configure");
    if (configured === 0) throw new PluginStartError("Failed to configure Wasm plugin in proxy_on_configure", "configure", undefined);
  }

  private check(stage: "vm_start" | "configure"): void {
    const failure = this.vm.failure;
    if (failure !== null) throw new PluginStartError(stage === "vm_start" ? "Plugin failed in proxy_on_vm_start" : "Plugin failed in proxy_on_configure", stage, failure.report);
  }

  /** Creates a stream context under the root and sends `proxy_on_context_create(id, root)`. */
  createStreamContext(kind: "http" | "tcp"): Context {
    const vm = this.vm;
    const context = new Context(vm.allocateContextId(), kind, this.info, this.root);
    vm.addContext(context);
    vm.invoke("proxy_on_context_create", vm.streamCallbacks.contextCreate, context, context.id, this.root.id);
    return context;
  }

  /**
   * Plugin removal: `proxy_on_done(root)`; non-zero deletes the root at once, zero parks it until
   * the plugin calls `proxy_done` (it keeps receiving ticks, callouts and queue notifications).
   * Returns true when the root context is gone.
   */
  shutdown(): boolean {
    const vm = this.vm;
    const root = this.root;
    if (root.deleted) return true;
    const done = vm.invoke("proxy_on_done", vm.callback("proxy_on_done"), root, root.id);
    if (done === 0 && !vm.failed) {
      root.pendingDone = true;
      return false;
    }
    vm.deleteContext(root);
    return true;
  }
}
