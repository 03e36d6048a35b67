/**
 * A plugin as a filter chain uses it: a VM (from a checked module) with the plugin started on it,
 * the failure policy, and reload with back-off (reference §4.10). Streams are created here so
 * each gets the VM that is current when it starts.
 */
import type { CheckedModule } from "./module";
import { HttpStream, type HttpStreamOptions, type HttpStreamSink } from "./drivers/http-stream";
import { TcpStream, type TcpStreamOptions, type TcpStreamSink } from "./drivers/tcp-stream";
import type { FailurePolicy } from "./failure-policy";
import { Plugin, PluginStartError, type PluginOptions } from "./plugin";
import type { ProxyProcess } from "./process";
import { Vm, type VmOptions } from "./vm";
import { InstantiationError, type VmFailure } from "./vm-failure";

export interface PluginHostOptions extends PluginOptions {
  readonly module: CheckedModule;
  readonly process: ProxyProcess;
  readonly vm?: Omit<VmOptions, "process">;
  readonly failurePolicy?: FailurePolicy;
  /** Base back-off before a failed VM is reloaded (`fail_reload`); Envoy's default is 1 s. */
  readonly reloadBackoffMs?: number;
  /** Told when a VM of this host fails (once per VM), after the VM logged its report. */
  readonly onVmFailure?: (failure: VmFailure) => void;
}

export class PluginHost {
  vm!: Vm;
  plugin!: Plugin;
  /** Number of VMs created after the first one (reloads). */
  reloads = 0;
  readonly failurePolicy: FailurePolicy;
  private failedAtMs: number | null = null;

  /** Creates the VM, runs module start and the plugin start. Throws PluginStartError (or ModuleLoadError). */
  constructor(readonly options: PluginHostOptions) {
    this.failurePolicy = options.failurePolicy ?? "fail_closed";
    this.boot();
  }

  private boot(): void {
    let vm: Vm;
    try {
      vm = new Vm(this.options.module, { ...this.options.vm, process: this.options.process });
    } catch (error) {
      // Envoy: cpp-host's link failure, then "Failed to initialize Wasm code" (wasm.cc `initialize`).
      if (error instanceof InstantiationError) throw new PluginStartError("Failed to initialize Wasm code", "module_start", error.report);
      throw error;
    }
    if (!vm.start()) throw new PluginStartError("Failed to initialize Wasm code", "module_start", vm.failure?.report);
    const plugin = new Plugin(vm, this.options);
    plugin.start();
    vm.failureListeners.push((failure) => {
      this.failedAtMs = Number(this.options.process.scheduler.monotonicNanos() / 1_000_000n);
      this.options.onVmFailure?.(failure);
    });
    this.vm = vm;
    this.plugin = plugin;
  }

  /**
   * With `fail_reload`, replaces a failed VM once the back-off has passed (only this host's own
   * plugin is started on the new VM; other plugins sharing it start themselves again). Called
   * before every new stream; a no-op otherwise.
   */
  maybeReload(): void {
    if (this.failurePolicy !== "fail_reload" || !this.vm.failed || this.failedAtMs === null) return;
    const nowMs = Number(this.options.process.scheduler.monotonicNanos() / 1_000_000n);
    if (nowMs - this.failedAtMs < (this.options.reloadBackoffMs ?? 1000)) return;
    try {
      this.boot();
      this.reloads++;
      this.failedAtMs = null;
    } catch {
      // The new VM failed to start: stay failed and back off again.
      this.failedAtMs = nowMs;
    }
  }

  /** A new HTTP stream on the current VM (reloading first if due). */
  httpStream(sink: HttpStreamSink, options: Omit<HttpStreamOptions, "failurePolicy"> = {}): HttpStream {
    this.maybeReload();
    // Named fields rather than a spread: this runs for every request.
    return new HttpStream(this.plugin, sink, {
      properties: options.properties,
      connectionId: options.connectionId,
      protocol: options.protocol,
      bufferLimitBytes: options.bufferLimitBytes,
      failurePolicy: this.failurePolicy === "fail_open" ? "fail_open" : "fail_closed",
    });
  }

  /** A new TCP connection on the current VM (reloading first if due). */
  tcpStream(sink: TcpStreamSink, options: Omit<TcpStreamOptions, "failurePolicy"> = {}): TcpStream {
    this.maybeReload();
    return new TcpStream(this.plugin, sink, { ...options, failurePolicy: this.failurePolicy === "fail_open" ? "fail_open" : "fail_closed" });
  }

  /** Removes the plugin (`proxy_on_done` …); true when its root context is gone. */
  shutdown(): boolean {
    return this.plugin.shutdown();
  }
}
