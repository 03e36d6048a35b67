import { readFileSync } from "node:fs";
import type { TcpStream, TcpStreamSink } from "../../host/drivers/tcp-stream";
import type { FailurePolicy as HostFailurePolicy } from "../../host/failure-policy";
import { InterruptInstrumentationError, loadCheckedModule, type CheckedModule } from "../../host/module";
import type { PropertyTree } from "../../host/plugin-info";
import { PluginHost } from "../../host/plugin-host";
import { ProxyProcess } from "../../host/process";
import { RealScheduler } from "../../host/scheduler";
import { ClusterCalloutUpstream } from "../callout-upstream";
import type { ClusterConfig, FailurePolicy, WasmFilterConfig } from "../config/dev-proxy-config";
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
}

/**
 * The `envoy.filters.network.wasm` filters of every TCP listener: one PluginHost (VM and plugin)
 * per configured filter, all in one ProxyProcess (metrics, the real clock; shared data and queues
 * are the proxy's, shared with its HTTP filters) on the thread that owns the sockets. Each connection is played through the host's TcpStream
 * driver, the one the test kit's `tcp()` uses.
 */
export class NetworkWasmFilters {
  private readonly byListener: NetworkWasmFilter[][] = [];
  private readonly callouts: ClusterCalloutUpstream;
  private readonly process: ProxyProcess;
  private removeStatsSource: () => void = () => {};

  /**
   * Starts every plugin of `listeners` (in order).
   *
   * @throws ModuleLoadError / PluginStartError when a module would not load or start in Envoy;
   *   nothing is left running then.
   */
  constructor(listeners: readonly TcpListenerConfig[], private readonly env: NetworkFilterEnv) {
    this.callouts = new ClusterCalloutUpstream(env.clusters, env.logger);
    this.process = new ProxyProcess({
      scheduler: new RealScheduler(),
      logLevel: hostLevel(env.logger.level),
      clusters: env.clusters.keys(),
      upstream: this.callouts,
      sharedData: env.shared?.data,
      queues: env.shared?.queues,
      logSink: (record) => env.logger.log("wasm", record.level === "warn" ? "warning" : record.level, record.line, `context ${record.contextId}`),
    });
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

  /** Follows `/logging` level changes. */
  setLogLevel(level: LogLevelName): void {
    this.process.logLevel = hostLevel(level);
  }

  close(): void {
    this.removeStatsSource();
    this.callouts.close();
    for (const filters of this.byListener) for (const filter of filters) filter.shutdown();
    this.byListener.length = 0;
  }
}

/** One configured network filter: the PluginHost new connections use. */
export class NetworkWasmFilter {
  readonly name: string;
  private host: PluginHost;
  private readonly module: CheckedModule;
  /** Hosts replaced after a callback ran past the time limit; shut down with the proxy. */
  private readonly stopped: PluginHost[] = [];

  constructor(
    readonly config: WasmFilterConfig,
    private readonly process: ProxyProcess,
    private readonly env: NetworkFilterEnv,
  ) {
    this.name = config.name;
    const bytes = readFileSync(config.wasmPath);
    let module: CheckedModule;
    try {
      module = loadCheckedModule(bytes, { interruptible: env.callbackTimeLimitMs > 0 });
    } catch (error) {
      if (!(error instanceof InterruptInstrumentationError)) throw error;
      env.logger.log("main", "warning", `network filter ${config.name}: the callback time limit cannot be added to the module (${error.message}); it runs without one`);
      module = loadCheckedModule(bytes);
    }
    this.module = module;
    this.host = this.start();
  }

  /**
   * A TcpStream for a new connection on the current VM. A VM stopped by the callback time limit is
   * left to its connections (they got the failure policy); new ones get a fresh VM.
   */
  tcpStream(sink: TcpStreamSink, properties: PropertyTree): TcpStream {
    const failure = this.host.vm.failure;
    if (failure !== null && failure.timedOut) {
      try {
        const fresh = this.start();
        this.stopped.push(this.host);
        this.host = fresh;
      } catch (error) {
        this.env.logger.log("wasm", "critical", `${this.name}: a fresh VM failed to start: ${(error as Error).message}`);
      }
    }
    return this.host.tcpStream(sink, { properties });
  }

  shutdown(): void {
    for (const host of this.stopped) host.shutdown();
    this.stopped.length = 0;
    this.host.shutdown();
  }

  private start(): PluginHost {
    return new PluginHost({
      module: this.module,
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

function hostPolicy(policy: FailurePolicy): HostFailurePolicy {
  return policy === "FAIL_OPEN" ? "fail_open" : policy === "FAIL_RELOAD" ? "fail_reload" : "fail_closed";
}

function hostLevel(level: LogLevelName): "trace" | "debug" | "info" | "warn" | "error" | "critical" | "off" {
  return level === "warning" ? "warn" : level;
}
