import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MessageChannel, Worker } from "node:worker_threads";
import type { FailurePolicy } from "../config/dev-proxy-config";
import type { FilterBuildEnv, FilterChainHandle } from "../dev-proxy";
import type { HttpFilterFactory, HttpFilterSink, HttpFilterStream, HttpStreamInfo } from "../filters/http-filter";
import type { LogLevelName } from "../proxy-logger";
import type { MetricSample } from "../proxy-stats";
import { CallbackWatch, GUARD_SLOTS } from "./callback-guard";
import { SharedStateService } from "./shared-state-service";
import { Op, Outbox, RECORD_SIZE, type FilterWorkerInit, type WorkerBatch } from "./worker-protocol";
import { WorkerFilterStream } from "./worker-filter-stream";

/** Wait before a worker that failed to start is started again (on the next stream); doubles each time. */
const RESTART_BACKOFF_MS = 1000;
const MAX_RESTART_BACKOFF_MS = 60_000;

/**
 * The dev proxy's filter workers, as Envoy's worker threads: `config.concurrency` threads, each
 * running every configured filter on VMs of its own. The listener stays in the main thread
 * (Node cannot hand a socket to a worker thread), which assigns each new stream to the next
 * worker in turn and relays its events. Shared data and queues live here (SharedStateService).
 *
 * A watchdog checks the workers' callback guards; a worker inside one callback for longer than
 * `callbackTimeLimitMs` is terminated, its streams get the failure policy, and a new worker with
 * fresh VMs takes its place.
 */
export class FilterWorkerPool implements HttpFilterFactory, FilterChainHandle {
  readonly name: string;
  private readonly slots: WorkerSlot[] = [];
  private readonly shared: SharedStateService;
  private readonly policy: FailurePolicy;
  private next = 0;
  private nextStreamId = 1;
  private watchdog: NodeJS.Timeout | undefined;
  private closed = false;
  /** False until every first worker is ready: before that a dying worker fails the start instead of being replaced. */
  private started = false;
  private readonly removeStatsSource: () => void;
  /** Metrics of replaced workers: Envoy's stats outlive a VM, so their counts still add up. */
  private retiredStats: MetricSample[] = [];
  private readonly removeRefresher: () => void;

  private constructor(private readonly env: FilterBuildEnv) {
    this.shared = new SharedStateService(env.shared);
    this.name = env.config.filters.map((filter) => filter.name).join(",");
    // One chain runs on one VM set; it passes traffic on a failure only if every filter would.
    this.policy = env.config.filters.every((filter) => filter.failurePolicy === "FAIL_OPEN") ? "FAIL_OPEN" : "FAIL_CLOSED";
    this.removeStatsSource = env.stats.addSource(() => [...this.retiredStats, ...this.slots.flatMap((slot) => slot.stats)]);
    this.removeRefresher = env.stats.addRefresher(() => this.refreshStats());
  }

  /** Starts the workers and resolves once all of them started their plugins; rejects (with nothing left running) otherwise. */
  static async start(env: FilterBuildEnv): Promise<FilterWorkerPool> {
    const pool = new FilterWorkerPool(env);
    // Watching from the first worker on: a VM's start (a wasm start section, _initialize,
    // proxy_on_vm_start, proxy_on_configure) that never returns must not hang the proxy's start.
    const limit = env.config.callbackTimeLimitMs;
    if (limit > 0) {
      pool.watchdog = setInterval(() => pool.checkCallbacks(), Math.max(5, Math.min(250, Math.floor(limit / 4))));
      pool.watchdog.unref();
    }
    try {
      // Singleton wasm services run in worker 0 and, as in Envoy (services before the listeners'
      // filters), have started before any other worker's filters look for their queues.
      if ((env.config.services ?? []).some((service) => service.singleton)) {
        pool.slots.push(pool.spawn(0));
        await pool.slots[0].ready;
      }
      for (let i = pool.slots.length; i < Math.max(1, env.config.concurrency); i++) pool.slots.push(pool.spawn(i));
      await Promise.all(pool.slots.map((slot) => slot.ready));
      pool.started = true;
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  current(): readonly HttpFilterFactory[] {
    return [this];
  }

  createStream(sink: HttpFilterSink, info: HttpStreamInfo): HttpFilterStream {
    const index = this.next;
    let slot = this.slots[index];
    this.next = (this.next + 1) % this.slots.length;
    // A worker that could not start is tried again after its back-off: the module may be fixed by now.
    if (slot.dead && !this.closed && performance.now() >= slot.retryAtMs) slot = this.startReplacement(index, slot.backoffMs);
    const stream = new WorkerFilterStream(this.nextStreamId++, sink, info, slot.send, slot.forget);
    if (slot.dead) {
      // The worker could not be replaced: every stream meets the failure policy at once.
      queueMicrotask(() => stream.fail(this.policy));
    }
    slot.streams.set(stream.id, stream);
    return stream;
  }

  setLogLevel(level: LogLevelName): void {
    for (const slot of this.slots) slot.outbox.send(Op.SetLogLevel, 0, level);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.removeStatsSource();
    this.removeRefresher();
    await Promise.all(this.slots.map((slot) => slot.stop()));
    this.shared.close();
  }

  /** Asks every live worker for its metrics, so `/stats` shows the sum as of now. */
  private async refreshStats(): Promise<void> {
    await Promise.all(this.slots.map((slot) => slot.refreshStats()));
  }

  private checkCallbacks(): void {
    const now = performance.now();
    const limit = this.env.config.callbackTimeLimitMs;
    for (const [index, slot] of this.slots.entries()) {
      if (slot.dead || !slot.watch.check(now)) continue;
      if (!slot.isReady) {
        // Its `ready` rejects: the proxy's start fails, or the replacement is dead until a
        // stream tries again after its back-off (startReplacement).
        slot.dead = true;
        slot.abortStart(
          `Failed to initialize Wasm code: starting the VMs in worker ${slot.threadId} ran longer than the callback time limit (${limit} ms) ` +
            "(a wasm start section, _initialize, proxy_on_vm_start or proxy_on_configure that does not return?); worker terminated",
        );
        continue;
      }
      this.replace(index, `a filter callback ran longer than the callback time limit (${limit} ms)`);
    }
  }

  /** Terminates the worker in `index` (if still running), fails its streams, starts a fresh one. */
  private replace(index: number, reason: string): void {
    const slot = this.slots[index];
    if (this.closed || this.slots[index] !== slot || slot.replaced) return;
    slot.replaced = true;
    void slot.stop();
    this.retiredStats.push(...slot.stats.filter((sample) => sample.kind !== "gauge"));
    const outcomes = new Map<string, number>();
    for (const stream of [...slot.streams.values()]) {
      const outcome = stream.fail(this.policy);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    const summary = [...outcomes].map(([outcome, count]) => `${count} ${outcome}`).join(", ") || "none";
    this.env.logger.log(
      "wasm",
      "error",
      `worker ${slot.threadId}: ${reason}; worker terminated, failure policy ${this.policy} applied to its streams (${summary}${this.policy === "FAIL_CLOSED" ? ", 503 wasm_fail_stream" : ""}); starting a new worker with fresh VMs`,
    );
    this.env.stats.increment("wasm.worker_replaced");
    this.startReplacement(index, RESTART_BACKOFF_MS);
  }

  /**
   * Starts a new worker in `index`. If it cannot start, it is marked dead: the streams it was
   * given and those it gets meet the failure policy, until it is tried again `backoffMs` later.
   */
  private startReplacement(index: number, backoffMs: number): WorkerSlot {
    const fresh = this.spawn(index);
    this.slots[index] = fresh;
    const retried = backoffMs > RESTART_BACKOFF_MS;
    fresh.ready.then(
      () => {
        if (retried) this.env.logger.log("wasm", "info", `worker ${fresh.threadId} started; it serves streams again`);
      },
      (error: Error) => {
        fresh.dead = true;
        void fresh.stop(); // a worker whose start failed may still be alive, idle
        fresh.retryAtMs = performance.now() + backoffMs;
        fresh.backoffMs = Math.min(backoffMs * 2, MAX_RESTART_BACKOFF_MS);
        // Streams given to it while it was starting would otherwise wait for it forever.
        for (const stream of [...fresh.streams.values()]) stream.fail(this.policy);
        this.env.logger.log(
          "wasm",
          "critical",
          `replacement worker failed to start: ${error.message}; streams on it get the failure policy; trying again on a stream after ${backoffMs} ms`,
        );
      },
    );
    return fresh;
  }

  private spawn(index: number): WorkerSlot {
    const { config, clusters, logger } = this.env;
    const stateChannel = new MessageChannel();
    const stateFlag = new SharedArrayBuffer(4);
    const guardCells = new SharedArrayBuffer(4 * GUARD_SLOTS);
    const init: FilterWorkerInit & { entry: string } = {
      entry: workerEntry(),
      filters: config.filters,
      // A singleton service runs once per process: in the first worker (shared data and queues are
      // process-wide, so where it runs is not observable but for the thread id in its log lines).
      services: (config.services ?? []).filter((service) => !service.singleton || index === 0),
      clusters: [...clusters.values()].map((cluster) => ({ name: cluster.name, url: cluster.url.href, http2: cluster.http2, connectTimeoutMs: cluster.connectTimeoutMs, tls: cluster.tls ?? null })),
      hotReload: config.hotReload,
      node: config.node,
      bufferLimitBytes: config.bufferLimitBytes,
      logLevel: logger.level,
      colour: logger.colour,
      statePort: stateChannel.port2,
      stateFlag,
      guardCells,
    };
    const worker = new Worker(fileURLToPath(new URL("./filter-worker-bootstrap.mjs", import.meta.url)), {
      workerData: init,
      transferList: [stateChannel.port2],
    });
    const slot = new WorkerSlot(worker, new CallbackWatch(new Int32Array(guardCells), config.callbackTimeLimitMs));
    const stopServing = this.shared.serve(stateChannel.port1, new Int32Array(stateFlag), (targetId, token) => slot.outbox.send(Op.QueueReady, targetId, token));
    slot.onStop = stopServing;
    slot.onMessage = (op, _id, a) => {
      if (op === Op.Log) logger.output.write(a as string);
    };
    worker.on("exit", () => {
      stopServing();
      if (this.started && !slot.replaced && !slot.dead && !this.closed) this.replace(this.slots.indexOf(slot), "the worker exited");
    });
    worker.on("error", (error) => logger.log("wasm", "error", `worker ${slot.threadId} failed: ${error.stack ?? error.message}`));
    void index;
    return slot;
  }
}

/** The worker module: TypeScript in a source checkout, the bundled file next to this one otherwise. */
function workerEntry(): string {
  const source = new URL("./filter-worker.ts", import.meta.url);
  if (existsSync(fileURLToPath(source))) return source.href;
  return new URL("./filter-worker.mjs", import.meta.url).href;
}

/** One worker thread and the streams it serves. */
class WorkerSlot {
  readonly streams = new Map<number, WorkerFilterStream>();
  readonly outbox: Outbox;
  readonly ready: Promise<void>;
  readonly threadId: number;
  /** The worker's metrics as last reported. */
  stats: MetricSample[] = [];
  /** Replaced after the watchdog fired or the thread died; its successor is in the pool. */
  replaced = false;
  /** Could not start: streams given to it fail at once. */
  dead = false;
  /** True once the worker reported that every plugin started. */
  isReady = false;
  /** When dead: from when (performance.now()) a new stream starts a new worker, and its back-off. */
  retryAtMs = 0;
  backoffMs = RESTART_BACKOFF_MS;
  onStop: () => void = () => {};
  onMessage: (op: number, id: number, a: unknown) => void = () => {};
  /** How this slot's streams send to the worker (one shared function, not one closure per stream). */
  readonly send = (op: number, id: number, a?: unknown, b?: unknown): void => this.outbox.send(op, id, a, b);
  readonly forget = (stream: WorkerFilterStream): void => {
    this.streams.delete(stream.id);
  };
  private readonly statsWaiters = new Map<number, () => void>();
  private nextStatsRequest = 1;
  private stopped: Promise<void> | null = null;
  private readonly settle: { resolve: () => void; reject: (error: Error) => void };

  constructor(
    readonly worker: Worker,
    readonly watch: CallbackWatch,
  ) {
    this.threadId = worker.threadId;
    this.outbox = new Outbox((batch) => worker.postMessage(batch));
    let settle!: { resolve: () => void; reject: (error: Error) => void };
    this.ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    this.settle = settle;
    // A rejection nobody awaits yet must not crash the process.
    this.ready.catch(() => {});
    worker.on("exit", (code) => settle.reject(new Error(`filter worker exited with code ${code} before it was ready`)));
    worker.on("message", (batch: WorkerBatch) => {
      for (let i = 0; i < batch.length; i += RECORD_SIZE) {
        const op = batch[i] as number;
        const id = batch[i + 1] as number;
        const a = batch[i + 2];
        if (op <= Op.ResponseTrailers || op === Op.LocalReply || op === Op.Reset || op === Op.ClearRouteCache || op === Op.FlowControl) this.streams.get(id)?.deliver(op, a, batch[i + 3]);
        else if (op === Op.Ready) {
          this.isReady = true;
          settle.resolve();
        } else if (op === Op.BootFailed) settle.reject(new Error(a as string));
        else if (op === Op.Stats) {
          this.stats = a as MetricSample[];
          this.statsWaiters.get(id)?.();
          this.statsWaiters.delete(id);
        } else this.onMessage(op, id, a);
      }
    });
  }

  /** Fails a start that is stuck: `ready` rejects with `message` and the thread is terminated. */
  abortStart(message: string): void {
    this.settle.reject(new Error(message));
    void this.stop();
  }

  refreshStats(): Promise<void> {
    if (this.replaced || this.dead || this.stopped !== null) return Promise.resolve();
    const id = this.nextStatsRequest++;
    return new Promise<void>((resolve) => {
      this.statsWaiters.set(id, resolve);
      this.outbox.send(Op.StatsRequest, id);
    });
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      for (const resolve of this.statsWaiters.values()) resolve();
      this.statsWaiters.clear();
      await this.worker.terminate();
      this.onStop();
    })();
    return this.stopped;
  }
}
