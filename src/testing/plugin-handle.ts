/**
 * A further plugin configuration on a test host's VM, as Envoy runs several filters (or listeners)
 * whose `vm_config` names the same code and `vm_id`: one VM, one root context per plugin, each
 * plugin with its own `name`, `root_id` and configuration. Logs, metrics, shared data, callouts
 * and the clock are the test host's.
 */
import { HttpStream, Plugin, TcpStream, type PluginOptions, type PropertyTree } from "../host";
import type { BytesLike } from "../host/bytes";
import { playFlow, type FlowInput, type FlowResult } from "./flow";
import { HttpStreamHandle } from "./http-handle";
import { TcpConnectionHandle } from "./tcp-handle";
import type { TcpConnectionOptions, TestHost } from "./test-host";

/** `Config` types the plugin configuration, as in TestHostOptions. */
export interface AddPluginOptions<Config extends object = object> {
  /** Envoy `name`; default "". */
  readonly name?: string;
  /** Envoy `root_id`: which root context factory of the module serves this plugin; default "". */
  readonly rootId?: string;
  /** Plugin configuration; objects are sent as JSON text. */
  readonly pluginConfig?: BytesLike | Config;
  /** Extra property values for this plugin, e.g. `{ xds: { cluster_name: "web" } }`. */
  readonly properties?: PropertyTree;
  readonly allowOnHeadersStopIteration?: boolean;
}

export class PluginHandle {
  private current: Plugin;
  private removed = false;

  /**
   * Starts the plugin on the host's current VM (root context create, `proxy_on_vm_start`,
   * `proxy_on_configure`). Throws PluginStartError as Envoy rejects the configuration.
   */
  constructor(private readonly owner: TestHost, private readonly options: PluginOptions) {
    this.current = PluginHandle.start(owner, options);
  }

  private static start(owner: TestHost, options: PluginOptions): Plugin {
    const plugin = new Plugin(owner.vm, options);
    plugin.start();
    return plugin;
  }

  /** The plugin as the host runs it now (its root context, its info). */
  get plugin(): Plugin {
    return this.current;
  }

  /** This plugin's root context id (2 for the first plugin added to a fresh test host). */
  get rootContextId(): number {
    return this.current.root.id;
  }

  get name(): string {
    return this.current.info.name;
  }

  get rootId(): string {
    return this.current.info.rootId;
  }

  /**
   * A new HTTP stream whose context is created under this plugin's root. With `fail_reload`, a
   * reload that is due happens first and this plugin is started again on the new VM, as Envoy
   * does. Throws when the plugin was shut down.
   */
  http(options: { properties?: PropertyTree } = {}): HttpStreamHandle {
    const plugin = this.pluginForNewStream();
    return new HttpStreamHandle((sink) => new HttpStream(plugin, sink, { properties: options.properties, failurePolicy: this.streamFailurePolicy(), bufferLimitBytes: this.owner.bufferLimitBytes }), () => this.owner.checkStrict());
  }

  /**
   * A new TCP connection under this plugin's root (call `newConnection()` first); `properties`
   * override attributes for this connection only. Throws when shut down.
   */
  tcp(options: TcpConnectionOptions = {}): TcpConnectionHandle {
    const plugin = this.pluginForNewStream();
    return new TcpConnectionHandle((sink) => new TcpStream(plugin, sink, { failurePolicy: this.streamFailurePolicy(), properties: options.properties }), () => this.owner.checkStrict());
  }

  /** One whole request through this plugin; see `TestHost.flow`. Throws when shut down. */
  flow(input: FlowInput): FlowResult {
    return playFlow(this.http(), input);
  }

  /** `proxy_on_configure` again on this plugin's root context; see `TestHost.reconfigure`. */
  reconfigure(): void {
    if (this.removed) throw new Error(`plugin "${this.name}" (root_id "${this.rootId}") was shut down: it cannot be configured`);
    this.current.configure();
    this.owner.checkStrict();
  }

  /**
   * Removes this plugin only (`proxy_on_done` on its root; the other plugins keep running).
   * Returns true when the root context is gone, false while it waits for `proxy_done`.
   */
  shutdown(): boolean {
    this.removed = true;
    return this.current.shutdown();
  }

  private pluginForNewStream(): Plugin {
    if (this.removed) throw new Error(`plugin "${this.name}" (root_id "${this.rootId}") was shut down: it takes no new streams`);
    this.owner.host.maybeReload();
    if (this.current.vm !== this.owner.vm && !this.owner.vm.failed) this.current = PluginHandle.start(this.owner, this.options);
    return this.current;
  }

  private streamFailurePolicy(): "fail_open" | "fail_closed" {
    return this.owner.host.failurePolicy === "fail_open" ? "fail_open" : "fail_closed";
  }
}
