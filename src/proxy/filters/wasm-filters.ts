import { readFileSync } from "node:fs";
import { HttpStream, type HttpStreamSink } from "../../host/drivers/http-stream";
import type { HeaderMap } from "../../host/header-map";
import { InterruptInstrumentationError, loadCheckedModule, type CheckedModule } from "../../host/module";
import type { VmFailure } from "../../host/vm-failure";
import type { ModuleSourceMap } from "../../host/source-map/module-source-map";
import { debuggerMapText, loadSourceMap } from "../../host/source-map/source-map-file";
import { inspectorActive } from "../../host/inspect-mode";
import { PluginHost } from "../../host/plugin-host";
import { ProxyProcess } from "../../host/process";
import { RealScheduler } from "../../host/scheduler";
import { DEFAULT_BUFFER_LIMIT_BYTES } from "../../host/drivers/buffer-limit";
import { ClusterCalloutUpstream } from "../callout-upstream";
import { ClusterStats } from "../cluster-stats";
import { hostLevel, hostPolicy } from "./host-names";
import { moduleFileChanged, moduleFileIdentity } from "./module-file";
import type { ClusterConfig, WasmFilterConfig } from "../config/dev-proxy-config";
import type { SharedDataStore } from "../../host/shared-data";
import type { PropertyTree } from "../../host/plugin-info";
import type { SharedQueueRegistry } from "../../host/shared-queues";
import type { ProxyLogger } from "../proxy-logger";
import { FilterWorkerPool } from "../workers/filter-worker-pool";
import { GuardedScheduler, guardedUpstream } from "../workers/guarded-host";
import type { FilterBuildEnv, FilterChainHandle } from "../dev-proxy";
import type { HeaderList } from "../header-list";
import type { ProxyStats } from "../proxy-stats";
import type { HttpFilterFactory, HttpFilterSink, HttpFilterStream, HttpStreamInfo } from "./http-filter";
import { ConvertedHeaders, toHeaderList } from "./header-conversion";

/**
 * Builds the Wasm HTTP filters of `env.config.filters` for the dev proxy (see docs/dev-proxy.md).
 *
 * With `config.concurrency` 1, as on Envoy's single worker thread, the VMs run on the thread that
 * owns the sockets, so a stream costs no relay to another thread; the modules are compiled with a
 * deadline check in their loops, which stops a callback that runs past
 * `config.callbackTimeLimitMs`. If a module uses an instruction that instrumentation does not
 * know, a warning says so and one worker thread is used instead.
 *
 * Otherwise: a pool of `config.concurrency` worker threads, each with its own VM per filter (as
 * Envoy runs one VM per worker), with shared data and queues kept process-wide in the main
 * thread, and a watchdog that terminates a worker whose callback runs past the limit.
 *
 * Resolves once every plugin started.
 *
 * @throws Error with the loader's message when a module would not load or start in Envoy.
 */
export async function buildWasmFilters(env: FilterBuildEnv): Promise<FilterChainHandle> {
  const { config, clusters, logger, stats } = env;
  const services = config.services ?? [];
  if (config.filters.length === 0 && services.length === 0) return { current: () => [], close: async () => {} };
  // Without filters no traffic reaches a worker: the services run on this thread, one each.
  if (config.concurrency <= 1 || config.filters.length === 0) {
    try {
      return await buildInProcessWasmFilters(
        { filters: config.filters, services, node: config.node, hotReload: config.hotReload, bufferLimitBytes: config.bufferLimitBytes, clusters, logger, stats },
        { callbackTimeLimitMs: config.callbackTimeLimitMs, sharedData: env.shared?.data, queues: env.shared?.queues },
      );
    } catch (error) {
      if (!(error instanceof InterruptInstrumentationError)) throw error;
      logger.log("main", "warning", `filters run in a worker thread, not on the listener's thread: the callback time limit cannot be added to the module (${error.message})`);
    }
  }
  return FilterWorkerPool.start(env);
}

/** What the in-thread builder needs (a worker passes its own logger and stats). */
export interface InProcessFilterEnv {
  filters: readonly WasmFilterConfig[];
  /** Wasm services to start on the same process (shared data, queues): root contexts, no streams. */
  services?: readonly WasmFilterConfig[];
  /** The bootstrap's `node` (id, cluster, metadata, …), the `node` property of every context. */
  node?: Record<string, unknown>;
  hotReload: boolean;
  /** DevProxyConfig.bufferLimitBytes: each filter's per-stream buffer limit (0: none; default Envoy's 1 MiB). */
  bufferLimitBytes?: number;
  clusters: ReadonlyMap<string, ClusterConfig>;
  logger: ProxyLogger;
  stats: ProxyStats;
}

/** How a worker plugs the main thread's shared state and its callback guard into the host. */
export interface InProcessFilterOptions {
  sharedData?: SharedDataStore;
  queues?: SharedQueueRegistry;
  /** Every entry into Wasm that does not come from a stream event runs through it. */
  guard?: <T>(work: () => T) => T;
  /**
   * Stops a callback that runs longer than this (milliseconds; 0: no limit) in the VM itself: its
   * streams get the filter's failure policy and new streams get a fresh VM.
   */
  callbackTimeLimitMs?: number;
}

/**
 * Builds the filters on the host core in the calling thread: one ProxyProcess (shared data,
 * queues, metrics, clusters, the real clock) for the proxy, one PluginHost (VM + plugin) per
 * filter, and every stream played through the host's HttpStream driver, the one the test kit
 * uses. With `hotReload`, a changed .wasm gets a new PluginHost for new streams while streams in
 * flight finish on the old one, which is shut down when its last stream ends.
 *
 * @throws ModuleLoadError / PluginStartError when a module would not load or start in Envoy.
 */
export async function buildInProcessWasmFilters(env: InProcessFilterEnv, options: InProcessFilterOptions = {}): Promise<FilterChainHandle> {
  const { clusters, logger, stats } = env;
  const config = { filters: env.filters, hotReload: env.hotReload };
  const serviceConfigs = env.services ?? [];
  if (config.filters.length === 0 && serviceConfigs.length === 0) return { current: () => [], close: async () => {} };
  const guard = options.guard ?? (<T>(work: () => T): T => work());
  const callouts = new ClusterCalloutUpstream(clusters, logger, new ClusterStats(stats));
  const process = new ProxyProcess({
    scheduler: options.guard ? new GuardedScheduler(new RealScheduler(), guard) : new RealScheduler(),
    logLevel: hostLevel(logger.level),
    clusters: clusters.keys(),
    upstream: options.guard ? guardedUpstream(callouts, guard) : callouts,
    sharedData: options.sharedData,
    queues: options.queues,
    logSink: (record) => logger.log("wasm", record.level === "warn" ? "warning" : record.level, record.line, `context ${record.contextId}`),
  });
  // A stream's `clear_route_cache` reaches its router; nothing is kept per call (one per request).
  process.foreignFunctions.keepRecords = false;
  process.foreignFunctions.onClearRouteCache = (site) => {
    const driver = site.context?.driver;
    if (driver instanceof HttpStream && driver.sink instanceof WasmFilterStream) driver.sink.clearRouteCache();
  };
  const timeLimit = { limitMs: options.callbackTimeLimitMs ?? 0, logger, guard };
  const filters: ReloadableWasmFilter[] = [];
  // A wasm service is a plugin whose streams never come: the same VM handling, kept out of the chain.
  const services: ReloadableWasmFilter[] = [];
  try {
    // Services first: Envoy starts bootstrap extensions before the listeners' filters, so a
    // filter's root context finds the queues a service registered at its start.
    // The bootstrap's `node`, which Envoy exposes to every context as the `node` property.
    const properties: PropertyTree | undefined = env.node === undefined ? undefined : { node: env.node as PropertyTree };
    const bufferLimit = env.bufferLimitBytes ?? DEFAULT_BUFFER_LIMIT_BYTES;
    for (const service of serviceConfigs) services.push(new ReloadableWasmFilter(service, process, stats, timeLimit, properties, bufferLimit));
    for (const filter of config.filters) filters.push(new ReloadableWasmFilter(filter, process, stats, timeLimit, properties, bufferLimit));
  } catch (error) {
    // Nothing of a chain that failed to start stays behind: the caller may go on with workers.
    for (const filter of [...filters, ...services]) filter.shutdown();
    callouts.close();
    throw error;
  }
  const removeSource = stats.addSource(() =>
    process.metrics.all().map((metric) => ({
      name: metric.name,
      kind: metric.kind,
      value: Number(metric.value),
      samples: metric.samples.map(Number),
    })),
  );
  // Polls the files (a stat every 250 ms) against the stat taken when each module was read, so a
  // write racing with start-up is not missed (fs.watchFile would take its own, later baseline).
  let poller: NodeJS.Timeout | undefined;
  if (config.hotReload) {
    poller = setInterval(() => guard(() => {
      for (const filter of [...filters, ...services]) {
        if (!filter.changedOnDisk()) continue;
        try {
          filter.reload();
          logger.log("main", "info", `reloaded ${filter.config.wasmPath}: new streams use the new VM`);
        } catch (error) {
          logger.log("main", "error", `hot reload of ${filter.config.wasmPath} rejected, keeping the running VM: ${(error as Error).message}`);
        }
      }
    }), 250);
    poller.unref();
  }
  return {
    current: () => filters,
    setLogLevel: (level) => {
      process.logLevel = hostLevel(level);
    },
    close: async () => {
      if (poller !== undefined) clearInterval(poller);
      callouts.close();
      removeSource();
      for (const filter of [...filters, ...services]) filter.shutdown();
    },
  };
}

/** The callback time limit kept inside the VMs (in-thread filters); `limitMs` 0 means none. */
interface InVmTimeLimit {
  limitMs: number;
  logger: ProxyLogger;
  /**
   * Runs a VM's start (start section, start functions, plugin start): in a worker, under its
   * callback guard, so the pool's watchdog also stops a start that never returns.
   */
  guard: <T>(work: () => T) => T;
}

/** A PluginHost and how many streams run on it. */
interface LiveHost {
  readonly host: PluginHost;
  streams: number;
}

/** One configured filter: the PluginHost new streams use, and the older ones still draining. */
class ReloadableWasmFilter implements HttpFilterFactory {
  readonly name: string;
  /** The host new streams use. */
  private current: LiveHost;
  /** Hosts replaced while streams still ran on them; each shuts down with its last stream. */
  private readonly draining = new Set<LiveHost>();
  /** Identity of the file as last read (mtime and size), to notice a rebuild. */
  private loaded = "";
  /** The module of the current host, for a fresh VM after a callback was stopped. */
  private module!: CheckedModule;
  /** The source map of the current module (found beside it or configured), if any. */
  private sourceMap: ModuleSourceMap | undefined;

  constructor(
    readonly config: WasmFilterConfig,
    private readonly process: ProxyProcess,
    readonly stats: ProxyStats,
    private readonly timeLimit: InVmTimeLimit,
    /** Plugin-level properties (the bootstrap's `node`). */
    private readonly properties: PropertyTree | undefined,
    /** Envoy's per-stream buffer limit every stream of this filter gets (0: none). */
    readonly bufferLimitBytes: number,
  ) {
    this.name = config.name;
    this.current = { host: this.boot(), streams: 0 };
  }

  /** True when the .wasm on disk differs from the one last read (a missing file is no change). */
  changedOnDisk(): boolean {
    return moduleFileChanged(this.config.wasmPath, this.loaded);
  }

  /** Loads the module from disk again and makes it current; throws (keeping the old one) if it fails. */
  reload(): void {
    const previous = this.current;
    this.current = { host: this.boot(), streams: 0 };
    this.stats.increment(`wasm.${this.config.name}.hot_reload`);
    this.retireWhenIdle(previous);
  }

  shutdown(): void {
    for (const live of this.draining) live.host.shutdown();
    this.draining.clear();
    this.current.host.shutdown();
  }

  createStream(sink: HttpFilterSink, info: HttpStreamInfo): HttpFilterStream {
    // A VM stopped by the time limit is left to its streams; new ones get a fresh VM.
    const failure = this.current.host.vm.failure;
    if (failure !== null && failure.timedOut) this.replaceStopped();
    const live = this.current;
    live.streams++;
    return new WasmFilterStream(this, live, sink, info);
  }

  /** A stream on `live` finished: a host that is no longer current retires with its last stream. */
  streamFinished(live: LiveHost): void {
    live.streams--;
    if (live.streams === 0 && live !== this.current && this.draining.delete(live)) live.host.shutdown();
  }

  private boot(): PluginHost {
    // Recorded before reading, and even if loading fails, so one bad write is reported once.
    this.loaded = moduleFileIdentity(this.config.wasmPath);
    const bytes = readFileSync(this.config.wasmPath);
    // Read again on every load: a rebuild writes a new map beside the new module.
    const sourceMap = loadSourceMap(bytes, {
      wasmPath: this.config.wasmPath,
      mapPath: this.config.sourceMapPath,
      onProblem: (message) => this.timeLimit.logger.log("wasm", "warning", `${this.config.name}: ${message}`),
    });
    const interruptible = this.timeLimit.limitMs > 0;
    // For a debugger (`run --inspect`, which turns the time limit off): the map goes into the module V8 compiles.
    const forDebugger = !interruptible && sourceMap !== undefined && inspectorActive();
    const module = loadCheckedModule(bytes, { interruptible, ...(forDebugger ? { debuggerSourceMap: debuggerMapText(sourceMap) } : {}) });
    const host = this.start(module, sourceMap);
    this.module = module;
    this.sourceMap = sourceMap;
    return host;
  }

  private start(module: CheckedModule, sourceMap: ModuleSourceMap | undefined): PluginHost {
    return this.timeLimit.guard(() => new PluginHost({
      module,
      process: this.process,
      vm: { vmId: this.config.vmId, vmConfiguration: this.config.vmConfiguration, callbackTimeLimitMs: this.timeLimit.limitMs, sourceMap },
      onVmFailure: (failure) => this.vmFailed(failure),
      name: this.config.name,
      rootId: this.config.rootId,
      configuration: this.config.pluginConfiguration,
      allowOnHeadersStopIteration: this.config.allowOnHeadersStopIteration,
      properties: this.properties,
      failurePolicy: hostPolicy(this.config.failurePolicy),
    }));
  }

  private vmFailed(failure: VmFailure): void {
    if (!failure.timedOut) return;
    this.stats.increment(`wasm.${this.config.name}.vm_replaced`);
    this.timeLimit.logger.log(
      "wasm",
      "error",
      `${this.config.name}: a filter callback (${failure.callback}) ran longer than the callback time limit (${this.timeLimit.limitMs} ms); VM stopped, failure policy ${this.config.failurePolicy} applied to its streams; new streams get a fresh VM`,
    );
  }

  /** Makes a fresh VM from the current module current; the stopped one retires with its last stream. */
  private replaceStopped(): void {
    const stopped = this.current;
    try {
      this.current = { host: this.start(this.module, this.sourceMap), streams: 0 };
    } catch (error) {
      // Plugin start failed on the fresh VM: keep the stopped one (its streams get the failure policy).
      this.timeLimit.logger.log("wasm", "critical", `${this.config.name}: a fresh VM failed to start: ${(error as Error).message}`);
      return;
    }
    this.retireWhenIdle(stopped);
  }

  /** Shuts down a host that is no longer current now, or with its last stream. */
  private retireWhenIdle(live: LiveHost): void {
    if (live.streams === 0) live.host.shutdown();
    else this.draining.add(live);
  }
}

/**
 * One stream of a Wasm filter: the chain's events go into the host's HttpStream driver, and what
 * the driver lets through goes to the chain's sink, converted between the proxy's header pairs
 * (strings, Buffers) and the host's HeaderMap (bytes). One object per stream serves as both
 * ends, so a stream costs no closures.
 */
class WasmFilterStream implements HttpFilterStream, HttpStreamSink {
  private readonly stream: HttpStream;
  private finished = false;
  /** The last request/response headers converted for the driver, to convert them back cheaply. */
  private requestIn: ConvertedHeaders | null = null;
  private responseIn: ConvertedHeaders | null = null;

  constructor(
    private readonly filter: ReloadableWasmFilter,
    private readonly live: LiveHost,
    private readonly sink: HttpFilterSink,
    private readonly info: HttpStreamInfo,
  ) {
    this.stream = live.host.httpStream(this, {
      protocol: info.httpVersion === 2 ? "HTTP/2" : "HTTP/1.1",
      properties: info.dynamicMetadata === undefined ? connectionProperties(info) : withMetadata(connectionProperties(info), info.dynamicMetadata),
      bufferLimitBytes: filter.bufferLimitBytes,
    });
  }

  /** The plugin called `clear_route_cache` on this stream. */
  clearRouteCache(): void {
    this.info.routeCacheCleared = true;
  }

  // The chain's side (HttpFilterStream).
  requestHeaders(headers: HeaderList, endOfStream: boolean): void {
    const converted = new ConvertedHeaders(headers);
    this.requestIn = converted;
    this.stream.requestHeaders(converted.map, endOfStream);
  }
  requestBody(chunk: Buffer, endOfStream: boolean): void {
    this.stream.requestBody(chunk, endOfStream);
  }
  requestTrailers(trailers: HeaderList): void {
    this.stream.requestTrailers(new ConvertedHeaders(trailers).map);
  }
  responseHeaders(headers: HeaderList, endOfStream: boolean): void {
    const converted = new ConvertedHeaders(headers);
    this.responseIn = converted;
    this.stream.responseHeaders(converted.map, endOfStream);
  }
  responseBody(chunk: Buffer, endOfStream: boolean): void {
    this.stream.responseBody(chunk, endOfStream);
  }
  responseTrailers(trailers: HeaderList): void {
    this.stream.responseTrailers(new ConvertedHeaders(trailers).map);
  }
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.stream.complete();
    this.filter.streamFinished(this.live);
  }

  // The driver's side (HttpStreamSink).
  upstreamHeaders(headers: HeaderMap, endOfStream: boolean): void {
    this.sink.requestHeaders(this.requestIn !== null ? this.requestIn.toList(headers) : toHeaderList(headers), endOfStream);
  }
  upstreamData(data: Uint8Array, endOfStream: boolean): void {
    this.sink.requestBody(asBuffer(data), endOfStream);
  }
  upstreamTrailers(trailers: HeaderMap): void {
    this.sink.requestTrailers(toHeaderList(trailers));
  }
  downstreamHeaders(headers: HeaderMap, endOfStream: boolean): void {
    this.sink.responseHeaders(this.responseIn !== null ? this.responseIn.toList(headers) : toHeaderList(headers), endOfStream);
  }
  downstreamData(data: Uint8Array, endOfStream: boolean): void {
    this.sink.responseBody(asBuffer(data), endOfStream);
  }
  downstreamTrailers(trailers: HeaderMap): void {
    this.sink.responseTrailers(toHeaderList(trailers));
  }
  reset(details: string): void {
    this.sink.reset(details);
  }
  bufferOverflow(side: "request" | "response"): void {
    countBufferOverflow(this.filter.stats, side);
  }
  watermark(side: "request" | "response", above: boolean): void {
    this.sink.flowControl?.(side, above);
  }
}

/**
 * Envoy's HCM stats for a buffer limit that failed a stream (source/common/http/conn_manager_impl.cc
 * `onRequestDataTooLarge`, `onResponseDataTooLarge`).
 */
function countBufferOverflow(stats: ProxyStats, side: "request" | "response"): void {
  stats.http(side === "request" ? "downstream_rq_too_large" : "rs_too_large");
}

// Every stream of a keep-alive connection has the same `source.*` and `destination.*`, so the
// tree made for a connection's last stream serves the next one (the host never writes into a
// stream's overrides). One slot per remote port, checked against all four address fields.
const ADDRESS_SLOTS = 64;
interface ConnectionAddresses {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly route: Record<string, unknown> | undefined;
  readonly properties: PropertyTree;
}
const recentAddresses: (ConnectionAddresses | undefined)[] = new Array(ADDRESS_SLOTS).fill(undefined);

/**
 * The stream's properties plus `metadata.filter_metadata`, the very object earlier filters write
 * into, so a value set before this filter's callback runs is what it reads.
 */
function withMetadata(properties: PropertyTree, metadata: Record<string, Record<string, unknown>>): PropertyTree {
  return { ...properties, metadata: { filter_metadata: metadata } as PropertyTree };
}

/** The `source` and `destination` properties of the stream's connection, and its route's (`xds.*`). */
function connectionProperties(info: HttpStreamInfo): PropertyTree {
  const slot = info.downstreamRemotePort & (ADDRESS_SLOTS - 1);
  const cached = recentAddresses[slot];
  if (
    cached !== undefined &&
    cached.remotePort === info.downstreamRemotePort &&
    cached.remoteAddress === info.downstreamRemoteAddress &&
    cached.localPort === info.downstreamLocalPort &&
    cached.localAddress === info.downstreamLocalAddress &&
    cached.route === info.routeProperties
  ) {
    return cached.properties;
  }
  const properties: PropertyTree = {
    source: { address: `${info.downstreamRemoteAddress}:${info.downstreamRemotePort}`, port: info.downstreamRemotePort },
    destination: { address: `${info.downstreamLocalAddress}:${info.downstreamLocalPort}`, port: info.downstreamLocalPort },
    ...(info.routeProperties as PropertyTree | undefined),
  };
  recentAddresses[slot] = {
    remoteAddress: info.downstreamRemoteAddress,
    remotePort: info.downstreamRemotePort,
    localAddress: info.downstreamLocalAddress,
    localPort: info.downstreamLocalPort,
    route: info.routeProperties,
    properties,
  };
  return properties;
}

/** `bytes` as a Buffer: the same object when it is one (a chunk that passed through untouched). */
function asBuffer(bytes: Uint8Array): Buffer {
  return bytes instanceof Buffer ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
