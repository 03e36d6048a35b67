import { readFileSync } from "node:fs";
import type { TcpStream, TcpStreamSink } from "../../host/drivers/tcp-stream";
import { InterruptInstrumentationError, loadCheckedModule, type CheckedModule } from "../../host/module";
import type { PropertyTree } from "../../host/plugin-info";
import { PluginHost } from "../../host/plugin-host";
import { ProxyProcess } from "../../host/process";
import { RealScheduler } from "../../host/scheduler";
import { ClusterCalloutUpstream } from "../callout-upstream";
import { ClusterStats } from "../cluster-stats";
import { hostLevel, hostPolicy } from "./host-names";
import { moduleFileChanged, moduleFileIdentity } from "./module-file";
import type { ClusterConfig, WasmFilterConfig } from "../config/dev-proxy-config";
import type { TcpListenerConfig } from "../config/tcp-listener-config";
import type { LogLevelName, ProxyLogger } from "../proxy-logger";
import type { ProcessSharedState } from "../process-shared-state";
import type { ProxyStats } from "../proxy-stats";

/** What the network filters need from the proxy. */
export interface NetworkFilterEnv {
  clusters: ReadonlyMap<string, ClusterConfig>;
  logger: ProxyLogger;
  stats: ProxyStats;
  /** Longest one filter callback may run (0: no limit); see docs/dev-proxy.md. */
  callbackTimeLimitMs: number;
  /** The proxy's shared data and queues (shared with its HTTP filters' VMs); a fresh set otherwise. */
  shared?: ProcessSharedState;
  /** Watch the .wasm files: a changed one gets a new VM for new connections (`--watch`). */
  hotReload?: boolean;
}

/**
 * The `envoy.filters.network.wasm` filters of every TCP listener: one PluginHost (VM and plugin)
 * per configured filter, all in one ProxyProcess (metrics, the real clock; shared data and queues
 * are the proxy's, shared with its HTTP filters) on the thread that owns the sockets. With
 * `hotReload`, a changed .wasm gets a new VM for new connections while open ones finish on the
 * old one (polled as the HTTP filters' files are). Each connection is played through the host's TcpStream
 * driver, the one the test kit's `tcp()` uses.
 */
export class NetworkWasmFilters {
  private readonly byListener: NetworkWasmFilter[][] = [];
  private readonly callouts: ClusterCalloutUpstream;
  private readonly process: ProxyProcess;
  private removeStatsSource: () => void = () => {};
  private poller: NodeJS.Timeout | undefined;

  /**
   * Starts every plugin of `listeners` (in order).
   *
   * @throws ModuleLoadError / PluginStartError when a module would not load or start in Envoy;
   *   nothing is left running then.
   */
  constructor(listeners: readonly TcpListenerConfig[], private readonly env: NetworkFilterEnv) {
    // Network filters' callouts count under their cluster as the HTTP filters' do (Envoy's async client is the same).
    this.callouts = new ClusterCalloutUpstream(env.clusters, env.logger, new ClusterStats(env.stats));
    this.process = new ProxyProcess({
      scheduler: new RealScheduler(),
      logLevel: hostLevel(env.logger.level),
      clusters: env.clusters.keys(),
      upstream: this.callouts,
      sharedData: env.shared?.data,
      queues: env.shared?.queues,
      logSink: (record) => env.logger.log("wasm", record.level === "warn" ? "warning" : record.level, record.line, `context ${record.contextId}`),
    });
    // set_envoy_filter_state acts on the connection's stream info; a long-running proxy keeps no
    // record per call (one per connection would grow without end).
    this.process.foreignFunctions.keepRecords = false;
    try {
      for (const listener of listeners) {
        const filters: NetworkWasmFilter[] = [];
        this.byListener.push(filters);
        for (const filter of listener.filters) filters.push(new NetworkWasmFilter(filter, this.process, env));
      }
    } catch (error) {
      this.close();
      throw error;
    }
    if (env.hotReload && listeners.some((listener) => listener.filters.length > 0)) {
      // Polls mtime and size every 250 ms against those read at start, as the HTTP filters do.
      this.poller = setInterval(() => this.reloadChanged(), 250);
      this.poller.unref();
    }
    if (listeners.some((listener) => listener.filters.length > 0)) {
      this.removeStatsSource = env.stats.addSource(() =>
        this.process.metrics.all().map((metric) => ({ name: metric.name, kind: metric.kind, value: Number(metric.value), samples: metric.samples.map(Number) })),
      );
    }
  }

  /** The filters of listener `index`, in chain order. */
  filtersOf(index: number): readonly NetworkWasmFilter[] {
    return this.byListener[index] ?? [];
  }

  private reloadChanged(): void {
    for (const filters of this.byListener) {
      for (const filter of filters) {
        if (!filter.changedOnDisk()) continue;
        try {
          filter.reload();
          this.env.logger.log("main", "info", `reloaded ${filter.config.wasmPath}: new connections use the new VM`);
        } catch (error) {
          this.env.logger.log("main", "error", `hot reload of ${filter.config.wasmPath} rejected, keeping the running VM: ${(error as Error).message}`);
        }
      }
    }
  }

  /** Follows `/logging` level changes. */
  setLogLevel(level: LogLevelName): void {
    this.process.logLevel = hostLevel(level);
  }

  close(): void {
    if (this.poller !== undefined) clearInterval(this.poller);
    this.removeStatsSource();
    this.callouts.close();
    for (const filters of this.byListener) for (const filter of filters) filter.shutdown();
    this.byListener.length = 0;
  }
}

/** A PluginHost and how many connections run on it. */
interface LiveHost {
  readonly host: PluginHost;
  connections: number;
}

/** A connection's TcpStream and the call that tells the filter the connection is over. */
export interface NetworkFilterConnection {
  readonly stream: TcpStream;
  /** The connection closed (its close callbacks ran); a retired VM shuts down with its last one. */
  release(): void;
}

/**
 * One configured network filter: the PluginHost new connections use, and the older ones still
 * serving connections (after a hot reload or a callback stopped by the time limit), each shut
 * down with its last connection, as HTTP filters' VMs are.
 */
export class NetworkWasmFilter {
  readonly name: string;
  private current!: LiveHost;
  private readonly draining = new Set<LiveHost>();
  private module!: CheckedModule;
  /** Identity of the file as last read (mtime and size), to notice a rebuild. */
  private loaded = "";

  constructor(
    readonly config: WasmFilterConfig,
    private readonly process: ProxyProcess,
    private readonly env: NetworkFilterEnv,
  ) {
    this.name = config.name;
    this.current = { host: this.boot(), connections: 0 };
  }

  /**
   * A TcpStream for a new connection on the current VM. A VM stopped by the callback time limit is
   * left to its connections (they got the failure policy); new ones get a fresh VM.
   */
  open(sink: TcpStreamSink, properties: PropertyTree): NetworkFilterConnection {
    const failure = this.current.host.vm.failure;
    if (failure !== null && failure.timedOut) {
      try {
        this.makeCurrent(this.start(this.module));
      } catch (error) {
        this.env.logger.log("wasm", "critical", `${this.name}: a fresh VM failed to start: ${(error as Error).message}`);
      }
    }
    const live = this.current;
    live.connections++;
    let released = false;
    return {
      stream: live.host.tcpStream(sink, { properties }),
      release: () => {
        if (released) return;
        released = true;
        live.connections--;
        if (live.connections === 0 && live !== this.current && this.draining.delete(live)) live.host.shutdown();
      },
    };
  }

  /** True when the .wasm on disk differs from the one last read (a missing file is no change). */
  changedOnDisk(): boolean {
    return moduleFileChanged(this.config.wasmPath, this.loaded);
  }

  /** Loads the module from disk again for new connections; throws (keeping the running one) if it fails. */
  reload(): void {
    this.makeCurrent(this.boot());
    this.env.stats.increment(`wasm.${this.name}.hot_reload`);
  }

  shutdown(): void {
    for (const live of this.draining) live.host.shutdown();
    this.draining.clear();
    this.current.host.shutdown();
  }

  private makeCurrent(host: PluginHost): void {
    const previous = this.current;
    this.current = { host, connections: 0 };
    if (previous.connections === 0) previous.host.shutdown();
    else this.draining.add(previous);
  }

  /** Reads, checks and starts the module on disk. */
  private boot(): PluginHost {
    // Recorded before reading, and even if loading fails, so one bad write is reported once.
    this.loaded = moduleFileIdentity(this.config.wasmPath);
    const bytes = readFileSync(this.config.wasmPath);
    let module: CheckedModule;
    try {
      module = loadCheckedModule(bytes, { interruptible: this.env.callbackTimeLimitMs > 0 });
    } catch (error) {
      if (!(error instanceof InterruptInstrumentationError)) throw error;
      this.env.logger.log("main", "warning", `network filter ${this.name}: the callback time limit cannot be added to the module (${error.message}); it runs without one`);
      module = loadCheckedModule(bytes);
    }
    const host = this.start(module);
    this.module = module;
    return host;
  }

  private start(module: CheckedModule): PluginHost {
    return new PluginHost({
      module,
      process: this.process,
      vm: { vmId: this.config.vmId, vmConfiguration: this.config.vmConfiguration, callbackTimeLimitMs: this.env.callbackTimeLimitMs },
      onVmFailure: (failure) => {
        if (!failure.timedOut) return;
        this.env.stats.increment(`wasm.${this.name}.vm_replaced`);
        this.env.logger.log(
          "wasm",
          "error",
          `${this.name}: a filter callback (${failure.callback}) ran longer than the callback time limit (${this.env.callbackTimeLimitMs} ms); VM stopped, failure policy ${this.config.failurePolicy} applied to its connections; new connections get a fresh VM`,
        );
      },
      name: this.config.name,
      rootId: this.config.rootId,
      configuration: this.config.pluginConfiguration,
      allowOnHeadersStopIteration: this.config.allowOnHeadersStopIteration,
      failurePolicy: hostPolicy(this.config.failurePolicy),
    });
  }
}
