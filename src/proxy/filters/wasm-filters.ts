import { readFileSync, statSync } from "node:fs";
import type { HttpStream, HttpStreamSink } from "../../host/drivers/http-stream";
import type { FailurePolicy as HostFailurePolicy } from "../../host/failure-policy";
import { asciiLower, bytesEqual } from "../../host/bytes";
import { HeaderMap } from "../../host/header-map";
import type { BytePair } from "../../host/pairs";
import { InterruptInstrumentationError, loadCheckedModule, type CheckedModule } from "../../host/module";
import type { VmFailure } from "../../host/vm-failure";
import { PluginHost } from "../../host/plugin-host";
import { ProxyProcess } from "../../host/process";
import { RealScheduler } from "../../host/scheduler";
import { ClusterCalloutUpstream } from "../callout-upstream";
import type { ClusterConfig, FailurePolicy, WasmFilterConfig } from "../config/dev-proxy-config";
import type { SharedDataStore } from "../../host/shared-data";
import type { SharedQueueRegistry } from "../../host/shared-queues";
import type { ProxyLogger } from "../proxy-logger";
import { FilterWorkerPool } from "../workers/filter-worker-pool";
import { GuardedScheduler, guardedUpstream } from "../workers/guarded-host";
import type { FilterBuildEnv, FilterChainHandle } from "../dev-proxy";
import type { HeaderList } from "../header-list";
import type { LogLevelName } from "../proxy-logger";
import type { ProxyStats } from "../proxy-stats";
import type { HttpFilterFactory, HttpFilterSink, HttpFilterStream, HttpStreamInfo } from "./http-filter";

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
  if (config.filters.length === 0) return { current: () => [], close: async () => {} };
  if (config.concurrency <= 1) {
    try {
      return await buildInProcessWasmFilters(
        { filters: config.filters, hotReload: config.hotReload, clusters, logger, stats },
        { callbackTimeLimitMs: config.callbackTimeLimitMs },
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
  hotReload: boolean;
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
  if (config.filters.length === 0) return { current: () => [], close: async () => {} };
  const guard = options.guard ?? (<T>(work: () => T): T => work());
  const callouts = new ClusterCalloutUpstream(clusters, logger);
  const process = new ProxyProcess({
    scheduler: options.guard ? new GuardedScheduler(new RealScheduler(), guard) : new RealScheduler(),
    logLevel: hostLevel(logger.level),
    clusters: clusters.keys(),
    upstream: options.guard ? guardedUpstream(callouts, guard) : callouts,
    sharedData: options.sharedData,
    queues: options.queues,
    logSink: (record) => logger.log("wasm", record.level === "warn" ? "warning" : record.level, record.line, `context ${record.contextId}`),
  });
  const timeLimit = { limitMs: options.callbackTimeLimitMs ?? 0, logger };
  const filters: ReloadableWasmFilter[] = [];
  try {
    for (const filter of config.filters) filters.push(new ReloadableWasmFilter(filter, process, stats, timeLimit));
  } catch (error) {
    // Nothing of a chain that failed to start stays behind: the caller may go on with workers.
    for (const filter of filters) filter.shutdown();
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
      for (const filter of filters) {
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
      for (const filter of filters) filter.shutdown();
    },
  };
}

/** The callback time limit kept inside the VMs (in-thread filters); `limitMs` 0 means none. */
interface InVmTimeLimit {
  limitMs: number;
  logger: ProxyLogger;
}

/** One configured filter: the PluginHost new streams use, and the older ones still draining. */
class ReloadableWasmFilter implements HttpFilterFactory {
  readonly name: string;
  private host: PluginHost;
  private readonly liveStreams = new Map<PluginHost, number>();
  /** Identity of the file as last read (mtime and size), to notice a rebuild. */
  private loaded = "";
  /** The module of the current host, for a fresh VM after a callback was stopped. */
  private module!: CheckedModule;

  constructor(
    readonly config: WasmFilterConfig,
    private readonly process: ProxyProcess,
    private readonly stats: ProxyStats,
    private readonly timeLimit: InVmTimeLimit,
  ) {
    this.name = config.name;
    this.host = this.boot();
  }

  /** True when the .wasm on disk differs from the one last read (a missing file is no change). */
  changedOnDisk(): boolean {
    try {
      return fileIdentity(this.config.wasmPath) !== this.loaded;
    } catch {
      return false;
    }
  }

  /** Loads the module from disk again and makes it current; throws (keeping the old one) if it fails. */
  reload(): void {
    const previous = this.host;
    this.host = this.boot();
    this.stats.increment(`wasm.${this.config.name}.hot_reload`);
    if ((this.liveStreams.get(previous) ?? 0) === 0) this.retire(previous);
  }

  shutdown(): void {
    for (const host of this.liveStreams.keys()) if (host !== this.host) host.shutdown();
    this.host.shutdown();
  }

  createStream(sink: HttpFilterSink, info: HttpStreamInfo): HttpFilterStream {
    // A VM stopped by the time limit is left to its streams; new ones get a fresh VM.
    if (this.host.vm.failure !== null && this.host.vm.failure.timedOut) this.replaceStopped();
    const host = this.host;
    this.liveStreams.set(host, (this.liveStreams.get(host) ?? 0) + 1);
    return new WasmFilterStream(this, host, sink, info);
  }

  /** A stream on `host` finished: a host that is no longer current retires with its last stream. */
  streamFinished(host: PluginHost): void {
    const left = (this.liveStreams.get(host) ?? 1) - 1;
    this.liveStreams.set(host, left);
    if (left === 0 && host !== this.host) this.retire(host);
  }

  private boot(): PluginHost {
    // Recorded before reading, and even if loading fails, so one bad write is reported once.
    this.loaded = fileIdentity(this.config.wasmPath);
    const module = loadCheckedModule(readFileSync(this.config.wasmPath), { interruptible: this.timeLimit.limitMs > 0 });
    const host = this.start(module);
    this.module = module;
    return host;
  }

  private start(module: CheckedModule): PluginHost {
    return new PluginHost({
      module,
      process: this.process,
      vm: { vmId: this.config.vmId, vmConfiguration: this.config.vmConfiguration, callbackTimeLimitMs: this.timeLimit.limitMs },
      onVmFailure: (failure) => this.vmFailed(failure),
      name: this.config.name,
      rootId: this.config.rootId,
      configuration: this.config.pluginConfiguration,
      allowOnHeadersStopIteration: this.config.allowOnHeadersStopIteration,
      failurePolicy: hostPolicy(this.config.failurePolicy),
    });
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
    const stopped = this.host;
    try {
      this.host = this.start(this.module);
    } catch (error) {
      // Plugin start failed on the fresh VM: keep the stopped one (its streams get the failure policy).
      this.timeLimit.logger.log("wasm", "critical", `${this.config.name}: a fresh VM failed to start: ${(error as Error).message}`);
      return;
    }
    if ((this.liveStreams.get(stopped) ?? 0) === 0) this.retire(stopped);
  }

  private retire(host: PluginHost): void {
    this.liveStreams.delete(host);
    host.shutdown();
  }
}

function fileIdentity(path: string): string {
  const stat = statSync(path);
  return `${stat.mtimeMs}:${stat.size}`;
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
    private readonly host: PluginHost,
    private readonly sink: HttpFilterSink,
    info: HttpStreamInfo,
  ) {
    this.stream = host.httpStream(this, {
      protocol: info.httpVersion === 2 ? "HTTP/2" : "HTTP/1.1",
      properties: {
        source: { address: `${info.downstreamRemoteAddress}:${info.downstreamRemotePort}`, port: info.downstreamRemotePort },
        destination: { address: `${info.downstreamLocalAddress}:${info.downstreamLocalPort}`, port: info.downstreamLocalPort },
      },
    });
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
    this.filter.streamFinished(this.host);
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
}

// Header names repeat on every request, so each is encoded once and its bytes shared (HeaderMap
// never writes into the arrays it holds, and lower-cases names itself, so caching the lower-cased
// bytes changes nothing). The lower-cased string is kept by the bytes' identity, so names the
// plugin did not add convert back without decoding. Bounded, so a client sending ever new names
// cannot grow it without limit.
const NAME_CACHE_LIMIT = 512;
const nameBytes = new Map<string, Uint8Array>();
const nameStrings = new Map<Uint8Array, string>();

function headerNameBytes(name: string): Uint8Array {
  let bytes = nameBytes.get(name);
  if (bytes === undefined) {
    bytes = asciiLower(latin1Bytes(name));
    if (nameBytes.size < NAME_CACHE_LIMIT && !hasWideChar(name)) {
      nameBytes.set(name, bytes);
      nameStrings.set(bytes, latin1String(bytes));
    }
  }
  return bytes;
}

/** True when `text` has a character that latin1 cannot carry (so a round trip through bytes would change it). */
function hasWideChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return true;
  return false;
}

// Node hands header text over as latin1 (one char per byte), so latin1 keeps non-UTF-8 bytes intact.
function latin1Bytes(text: string): Uint8Array {
  if (text.length > 64) return Buffer.from(text, "latin1");
  // A short string is cheaper to copy by hand than through Buffer.from (pool slice + FastBuffer).
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function latin1String(bytes: Uint8Array): string {
  if (bytes.length > 64) return asBuffer(bytes).toString("latin1");
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

// Text a plugin writes into headers repeats on every request (`hello`, `world!`, a configured
// name), but arrives as new bytes each time. A small direct-mapped cache of short texts, checked
// by content, turns them back into the same strings without decoding; a miss costs one compare.
const RECENT_TEXT_SLOTS = 128;
const RECENT_TEXT_MAX = 32;
const recentBytes: (Uint8Array | undefined)[] = new Array(RECENT_TEXT_SLOTS).fill(undefined);
const recentStrings: string[] = new Array(RECENT_TEXT_SLOTS).fill("");

function pluginText(bytes: Uint8Array): string {
  const length = bytes.length;
  if (length === 0 || length > RECENT_TEXT_MAX) return latin1String(bytes);
  const slot = (length * 31 + bytes[0] * 7 + bytes[length - 1] * 3 + bytes[length >> 1]) & (RECENT_TEXT_SLOTS - 1);
  const cached = recentBytes[slot];
  if (cached !== undefined && bytesEqual(cached, bytes)) return recentStrings[slot];
  const text = latin1String(bytes);
  recentBytes[slot] = bytes;
  recentStrings[slot] = text;
  return text;
}

/**
 * A header list handed to the host as a HeaderMap, remembered so the map converts back cheaply.
 * The map is built only when something reads it (a callback, a property): a filter that never
 * looks at these headers costs no conversion at all, and they go on as the same list. Entries
 * the plugin left alone keep their original value strings instead of being decoded again.
 */
class ConvertedHeaders {
  /** The map handed to the driver (the plugin may change it). */
  readonly map: HeaderMap;
  /** The entries as built, shared with `map` until the plugin changes it (copy on write). */
  private original: readonly BytePair[] | null = null;
  private built: [Uint8Array, Uint8Array][] | null = null;

  constructor(private readonly list: HeaderList) {
    this.map = HeaderMap.lazy(() => (this.built ??= this.build()));
  }

  /** `headers` (this map or any other) as a header list; unchanged values reuse the original strings. */
  toList(headers: HeaderMap): HeaderList {
    if (headers === this.map && !headers.built) return this.list;
    const pairs = headers.pairs();
    const list: HeaderList = new Array(pairs.length);
    for (let i = 0; i < pairs.length; i++) {
      const pair = pairs[i];
      list[i] = [nameStrings.get(pair[0]) ?? pluginText(pair[0]), this.originalValue(pair, i) ?? pluginText(pair[1])];
    }
    return list;
  }

  private build(): [Uint8Array, Uint8Array][] {
    const list = this.list;
    const entries: [Uint8Array, Uint8Array][] = new Array(list.length);
    let exact = true;
    for (let i = 0; i < list.length; i++) {
      const value = list[i][1];
      if (exact && hasWideChar(value)) exact = false;
      entries[i] = [headerNameBytes(list[i][0]), latin1Bytes(value)];
    }
    // A value with a character above 0xff does not survive the trip to bytes; decode every value then.
    this.original = exact ? entries : null;
    return entries;
  }

  private originalValue(pair: BytePair, index: number): string | undefined {
    const original = this.original;
    if (original === null) return undefined;
    // Entries are replaced, never changed in place, so an entry identical to an original one has its value.
    if (index < original.length && original[index] === pair) return this.list[index][1];
    if (original.length > 64) return undefined;
    for (let j = 0; j < original.length; j++) if (original[j] === pair) return this.list[j][1];
    return undefined;
  }
}

function toHeaderList(headers: HeaderMap): HeaderList {
  const pairs = headers.pairs();
  const list: HeaderList = new Array(pairs.length);
  for (let i = 0; i < pairs.length; i++) list[i] = [nameStrings.get(pairs[i][0]) ?? latin1String(pairs[i][0]), latin1String(pairs[i][1])];
  return list;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function hostPolicy(policy: FailurePolicy): HostFailurePolicy {
  return policy === "FAIL_OPEN" ? "fail_open" : policy === "FAIL_RELOAD" ? "fail_reload" : "fail_closed";
}

function hostLevel(level: LogLevelName): "trace" | "debug" | "info" | "warn" | "error" | "critical" | "off" {
  return level === "warning" ? "warn" : level;
}

