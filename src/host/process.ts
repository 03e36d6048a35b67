/**
 * The "Envoy process": everything several VMs share. Shared data and queues (keyed by vm_id),
 * the foreign function registry, the cluster names callouts may target, the stats store, the
 * log sink and level, the clock/dispatcher and the callout upstream.
 */
import type { CalloutUpstream } from "./callouts";
import { LogLevel, type LogLevelName } from "./constants";
import { ForeignFunctionRegistry } from "./foreign-functions";
import type { LogRecord, LogSink } from "./log";
import { MetricStore } from "./metrics";
import { ManualScheduler, type Scheduler } from "./scheduler";
import { SharedDataStore } from "./shared-data";
import { SharedQueueRegistry } from "./shared-queues";

export interface ProxyProcessOptions {
  /** Clock and dispatcher; default: a ManualScheduler (fake clock). */
  scheduler?: Scheduler;
  /** Envoy's `wasm` logger level; lines below it are dropped. Default `info`, as in Envoy. */
  logLevel?: LogLevelName;
  /** Receives every log line at or above the level. */
  logSink?: LogSink;
  /** Cluster names `proxy_http_call`/`proxy_grpc_*` accept. */
  clusters?: Iterable<string>;
  /** Where callouts go; without one, accepted callouts simply stay pending. */
  upstream?: CalloutUpstream;
  /** Shared data store; default a fresh in-process one. The dev proxy's workers pass one backed by the main thread. */
  sharedData?: SharedDataStore;
  /** Shared queues; default a fresh in-process registry. The dev proxy's workers pass one backed by the main thread. */
  queues?: SharedQueueRegistry;
}

export class ProxyProcess {
  readonly scheduler: Scheduler;
  readonly sharedData: SharedDataStore;
  readonly queues: SharedQueueRegistry;
  readonly foreignFunctions = new ForeignFunctionRegistry();
  readonly metrics = new MetricStore();
  readonly clusters: Set<string>;
  logLevel: LogLevelName;
  upstream: CalloutUpstream | undefined;
  private readonly sinks: LogSink[] = [];

  constructor(options: ProxyProcessOptions = {}) {
    this.scheduler = options.scheduler ?? new ManualScheduler();
    this.sharedData = options.sharedData ?? new SharedDataStore();
    this.queues = options.queues ?? new SharedQueueRegistry((task) => this.scheduler.post(task));
    this.logLevel = options.logLevel ?? "info";
    if (options.logSink !== undefined) this.sinks.push(options.logSink);
    this.clusters = new Set(options.clusters ?? []);
    this.upstream = options.upstream;
  }

  /** Numeric level for `proxy_get_log_level`. */
  get logLevelValue(): number {
    return LogLevel[this.logLevel];
  }

  /** True when a line at `level` would be written. */
  isLogged(level: number): boolean {
    return level >= LogLevel[this.logLevel] && LogLevel[this.logLevel] !== LogLevel.off;
  }

  addLogSink(sink: LogSink): () => void {
    this.sinks.push(sink);
    return () => {
      const index = this.sinks.indexOf(sink);
      if (index >= 0) this.sinks.splice(index, 1);
    };
  }

  /** Writes a record to every sink; the caller has already checked the level. */
  emit(record: LogRecord): void {
    for (const sink of this.sinks) sink(record);
  }
}
