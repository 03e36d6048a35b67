/**
 * Entry point of one dev-proxy filter worker thread: builds this worker's VMs (one per
 * configured filter) and plays the streams the main thread assigns to it through them. See
 * FilterWorkerPool for the other side.
 */
import { parentPort, threadId, workerData } from "node:worker_threads";
import type { ClusterConfig } from "../config/dev-proxy-config";
import type { FilterChainHandle } from "../dev-proxy";
import { buildFilterChain } from "../filters/filter-chain";
import type { HttpFilterSink, HttpFilterStream, HttpStreamInfo, LocalReply } from "../filters/http-filter";
import { buildInProcessWasmFilters } from "../filters/wasm-filters";
import type { HeaderList } from "../header-list";
import { ProxyLogger, type LogLevelName } from "../proxy-logger";
import { ProxyStats } from "../proxy-stats";
import { CallbackGuard } from "./callback-guard";
import { RemoteQueueRegistry, RemoteSharedDataStore, SharedStateLine } from "./shared-state-client";
import {
  asBuffer,
  flattenHeaders,
  Op,
  Outbox,
  RECORD_SIZE,
  transferable,
  unflattenHeaders,
  unflattenStreamInfo,
  type FilterWorkerInit,
  type FlatHeaders,
  type FlatStreamInfo,
  type WorkerBatch,
} from "./worker-protocol";

const port = parentPort!;
const init = workerData as FilterWorkerInit;
const outbox = new Outbox((batch) => port.postMessage(batch));
const guard = new CallbackGuard(new Int32Array(init.guardCells));
const logger = new ProxyLogger({
  level: init.logLevel,
  colour: init.colour,
  thread: String(threadId),
  output: { write: (text: string) => outbox.send(Op.Log, 0, text) },
});
const stats = new ProxyStats();
const line = new SharedStateLine(init.statePort, new Int32Array(init.stateFlag));
const queues = new RemoteQueueRegistry(line);
const streams = new Map<number, HttpFilterStream>();
let filters: FilterChainHandle | null = null;
// Messages that arrive while the VMs are still starting wait here.
const early: WorkerBatch[] = [];

port.on("message", (batch: WorkerBatch) => {
  if (filters === null) early.push(batch);
  else guard.run(() => handleBatch(batch));
});

try {
  const clusters = new Map<string, ClusterConfig>(
    init.clusters.map((cluster) => [cluster.name, { ...cluster, url: new URL(cluster.url) }]),
  );
  filters = await buildInProcessWasmFilters(
    {
      filters: init.filters.map((filter) => ({
        ...filter,
        pluginConfiguration: asBuffer(filter.pluginConfiguration),
        vmConfiguration: asBuffer(filter.vmConfiguration),
      })),
      services: init.services.map((service) => ({
        ...service,
        pluginConfiguration: asBuffer(service.pluginConfiguration),
        vmConfiguration: asBuffer(service.vmConfiguration),
      })),
      hotReload: init.hotReload,
      node: init.node,
      bufferLimitBytes: init.bufferLimitBytes,
      clusters,
      logger,
      stats,
    },
    { sharedData: new RemoteSharedDataStore(line), queues, guard: (work) => guard.run(work) },
  );
  outbox.send(Op.Ready);
  for (const batch of early.splice(0)) guard.run(() => handleBatch(batch));
} catch (error) {
  outbox.send(Op.BootFailed, 0, (error as Error).message);
}

function handleBatch(batch: WorkerBatch): void {
  for (let i = 0; i < batch.length; i += RECORD_SIZE) {
    try {
      handle(batch[i] as number, batch[i + 1] as number, batch[i + 2], batch[i + 3]);
    } catch (error) {
      logger.log("main", "error", `worker failed on a message (op ${batch[i]}): ${(error as Error).stack ?? error}`);
    }
  }
}

function handle(op: number, id: number, a: unknown, b: unknown): void {
  if (op === Op.Open) {
    const info = unflattenStreamInfo(a as FlatStreamInfo);
    streams.set(id, buildFilterChain(filters!.current(), new SinkToMain(id, info), info));
    return;
  }
  const stream = streams.get(id);
  switch (op) {
    case Op.RequestHeaders:
      return stream?.requestHeaders(unflattenHeaders(a as FlatHeaders), b as boolean);
    case Op.RequestBody:
      return stream?.requestBody(asBuffer(a as Uint8Array), b as boolean);
    case Op.RequestTrailers:
      return stream?.requestTrailers(unflattenHeaders(a as FlatHeaders));
    case Op.ResponseHeaders:
      return stream?.responseHeaders(unflattenHeaders(a as FlatHeaders), b as boolean);
    case Op.ResponseBody:
      return stream?.responseBody(asBuffer(a as Uint8Array), b as boolean);
    case Op.ResponseTrailers:
      return stream?.responseTrailers(unflattenHeaders(a as FlatHeaders));
    case Op.Finish:
      streams.delete(id);
      return stream?.finish();
    case Op.QueueReady:
      return queues.notify(id, a as number);
    case Op.SetLogLevel:
      logger.level = a as LogLevelName;
      return filters!.setLogLevel?.(a as LogLevelName);
    case Op.StatsRequest:
      return outbox.send(Op.Stats, id, stats.snapshot());
  }
}

/** Where this worker's chain sends what it lets through for stream `id`: back to the main thread. */
class SinkToMain implements HttpFilterSink {
  constructor(
    private readonly id: number,
    private readonly info: HttpStreamInfo,
  ) {}
  requestHeaders(headers: HeaderList, endOfStream: boolean): void {
    // A filter's `clear_route_cache` marked this worker's copy of the stream info; the router is in the main thread.
    if (this.info.routeCacheCleared === true) outbox.send(Op.ClearRouteCache, this.id);
    outbox.send(Op.RequestHeaders, this.id, flattenHeaders(headers), endOfStream);
  }
  requestBody(chunk: Buffer, endOfStream: boolean): void {
    outbox.send(Op.RequestBody, this.id, transferable(chunk), endOfStream);
  }
  requestTrailers(trailers: HeaderList): void {
    outbox.send(Op.RequestTrailers, this.id, flattenHeaders(trailers));
  }
  responseHeaders(headers: HeaderList, endOfStream: boolean): void {
    outbox.send(Op.ResponseHeaders, this.id, flattenHeaders(headers), endOfStream);
  }
  responseBody(chunk: Buffer, endOfStream: boolean): void {
    outbox.send(Op.ResponseBody, this.id, transferable(chunk), endOfStream);
  }
  responseTrailers(trailers: HeaderList): void {
    outbox.send(Op.ResponseTrailers, this.id, flattenHeaders(trailers));
  }
  localReply(reply: LocalReply): void {
    outbox.send(Op.LocalReply, this.id, { ...reply, body: transferable(reply.body) });
  }
  reset(reason: string): void {
    outbox.send(Op.Reset, this.id, reason);
  }
  flowControl(side: "request" | "response", paused: boolean): void {
    outbox.send(Op.FlowControl, this.id, side, paused);
  }
}
