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
import { asBuffer, Op, Outbox, transferable, type FilterWorkerInit, type WorkerMessage } from "./worker-protocol";

const port = parentPort!;
const init = workerData as FilterWorkerInit;
const outbox = new Outbox((batch) => port.postMessage(batch));
const guard = new CallbackGuard(new Int32Array(init.guardCells));
const logger = new ProxyLogger({
  level: init.logLevel,
  colour: init.colour,
  thread: String(threadId),
  output: { write: (text: string) => outbox.send([Op.Log, 0, text]) },
});
const stats = new ProxyStats();
const line = new SharedStateLine(init.statePort, new Int32Array(init.stateFlag));
const queues = new RemoteQueueRegistry(line);
const streams = new Map<number, HttpFilterStream>();
let filters: FilterChainHandle | null = null;
// Messages that arrive while the VMs are still starting wait here.
const early: WorkerMessage[][] = [];

port.on("message", (batch: WorkerMessage[]) => {
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
      hotReload: init.hotReload,
      clusters,
      logger,
      stats,
    },
    { sharedData: new RemoteSharedDataStore(line), queues, guard: (work) => guard.run(work) },
  );
  outbox.send([Op.Ready]);
  for (const batch of early.splice(0)) guard.run(() => handleBatch(batch));
} catch (error) {
  outbox.send([Op.BootFailed, 0, (error as Error).message]);
}

function handleBatch(batch: WorkerMessage[]): void {
  for (const message of batch) {
    try {
      handle(message);
    } catch (error) {
      logger.log("main", "error", `worker failed on a message (op ${message[0]}): ${(error as Error).stack ?? error}`);
    }
  }
}

function handle([op, id = 0, a, b]: WorkerMessage): void {
  if (op === Op.Open) {
    streams.set(id, buildFilterChain(filters!.current(), sinkToMain(id), a as HttpStreamInfo));
    return;
  }
  const stream = streams.get(id);
  switch (op) {
    case Op.RequestHeaders:
      return stream?.requestHeaders(a as HeaderList, b as boolean);
    case Op.RequestBody:
      return stream?.requestBody(asBuffer(a as Uint8Array), b as boolean);
    case Op.RequestTrailers:
      return stream?.requestTrailers(a as HeaderList);
    case Op.ResponseHeaders:
      return stream?.responseHeaders(a as HeaderList, b as boolean);
    case Op.ResponseBody:
      return stream?.responseBody(asBuffer(a as Uint8Array), b as boolean);
    case Op.ResponseTrailers:
      return stream?.responseTrailers(a as HeaderList);
    case Op.Finish:
      streams.delete(id);
      return stream?.finish();
    case Op.QueueReady:
      return queues.notify(id, a as number);
    case Op.SetLogLevel:
      logger.level = a as LogLevelName;
      return filters!.setLogLevel?.(a as LogLevelName);
    case Op.StatsRequest:
      return outbox.send([Op.Stats, id, stats.snapshot()]);
  }
}

/** Where this worker's chain sends what it lets through: back to the main thread. */
function sinkToMain(id: number): HttpFilterSink {
  return {
    requestHeaders: (headers, endOfStream) => outbox.send([Op.RequestHeaders, id, headers, endOfStream]),
    requestBody: (chunk, endOfStream) => outbox.send([Op.RequestBody, id, transferable(chunk), endOfStream]),
    requestTrailers: (trailers) => outbox.send([Op.RequestTrailers, id, trailers]),
    responseHeaders: (headers, endOfStream) => outbox.send([Op.ResponseHeaders, id, headers, endOfStream]),
    responseBody: (chunk, endOfStream) => outbox.send([Op.ResponseBody, id, transferable(chunk), endOfStream]),
    responseTrailers: (trailers) => outbox.send([Op.ResponseTrailers, id, trailers]),
    localReply: (reply: LocalReply) => outbox.send([Op.LocalReply, id, { ...reply, body: transferable(reply.body) }]),
    reset: (reason) => outbox.send([Op.Reset, id, reason]),
  };
}
