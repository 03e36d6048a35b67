import type { WasmFilterConfig } from "../config/dev-proxy-config";
import type { HttpStreamInfo } from "../filters/http-filter";
import type { HeaderList } from "../header-list";
import type { LogLevelName } from "../proxy-logger";

/**
 * Messages between the dev proxy's main thread and its filter workers. Each postMessage carries a
 * batch: one flat array of records `op, id, a, b` (always four slots, `undefined` when unused),
 * stream events keyed by stream id plus a few control messages. A flat array of primitives is
 * what the structured clone copies fastest (no object per message or per header). Header maps
 * travel as flat `[name, value, name, value, ...]` string arrays (see `flattenHeaders`); byte
 * chunks as exact-length Uint8Arrays (a Buffer from a pool would drag its whole pool through
 * the structured clone).
 */
export const Op = {
  /** main → worker: `Open, streamId, FlatStreamInfo`. */
  Open: 0,
  /** both ways: `.., streamId, FlatHeaders, endOfStream`, `.., streamId, Uint8Array, endOfStream`, `.., streamId, FlatHeaders`. */
  RequestHeaders: 1,
  RequestBody: 2,
  RequestTrailers: 3,
  ResponseHeaders: 4,
  ResponseBody: 5,
  ResponseTrailers: 6,
  /** main → worker: the stream is over. */
  Finish: 7,
  /** worker → main: `LocalReply, streamId, LocalReply` and `Reset, streamId, reason`. */
  LocalReply: 8,
  Reset: 9,
  /** main → worker: `QueueReady, targetId, token`. */
  QueueReady: 10,
  /** main → worker: `SetLogLevel, 0, LogLevelName`. */
  SetLogLevel: 11,
  /** main → worker `StatsRequest, requestId`; worker → main `Stats, requestId, MetricSample[]`. */
  StatsRequest: 12,
  Stats: 13,
  /** worker → main: `Log, 0, text`, lines already formatted with the worker's thread id. */
  Log: 14,
  /** worker → main: `Ready` once the VMs started, or `BootFailed, 0, message`. */
  Ready: 15,
  BootFailed: 16,
  /** worker → main: `ClearRouteCache, streamId`, before the request headers it applies to. */
  ClearRouteCache: 17,
  /** worker → main: `FlowControl, streamId, "request" | "response", paused`. */
  FlowControl: 18,
} as const;

/** Slots per record in a batch. */
export const RECORD_SIZE = 4;

/** One posted batch: records of RECORD_SIZE slots, back to back. */
export type WorkerBatch = unknown[];

/** A header list on the wire: names at even, values at odd indexes. */
export type FlatHeaders = string[];

export function flattenHeaders(headers: HeaderList): FlatHeaders {
  const flat: FlatHeaders = new Array(headers.length * 2);
  for (let i = 0; i < headers.length; i++) {
    flat[2 * i] = headers[i][0];
    flat[2 * i + 1] = headers[i][1];
  }
  return flat;
}

export function unflattenHeaders(flat: FlatHeaders): HeaderList {
  const headers: HeaderList = new Array(flat.length >> 1);
  for (let i = 0; i < headers.length; i++) headers[i] = [flat[2 * i], flat[2 * i + 1]];
  return headers;
}

/** HttpStreamInfo on the wire, in this order. */
export type FlatStreamInfo = [
  httpVersion: 1 | 2,
  remoteAddress: string,
  remotePort: number,
  localAddress: string,
  localPort: number,
  cluster: string,
  dynamicMetadata: HttpStreamInfo["dynamicMetadata"],
  routeProperties: HttpStreamInfo["routeProperties"],
];

export function flattenStreamInfo(info: HttpStreamInfo): FlatStreamInfo {
  // The metadata as it is when the stream reaches the worker: after the filters before it ran.
  return [info.httpVersion, info.downstreamRemoteAddress, info.downstreamRemotePort, info.downstreamLocalAddress, info.downstreamLocalPort, info.routeClusterName, info.dynamicMetadata, info.routeProperties];
}

export function unflattenStreamInfo(flat: FlatStreamInfo): HttpStreamInfo {
  const info: HttpStreamInfo = {
    httpVersion: flat[0],
    downstreamRemoteAddress: flat[1],
    downstreamRemotePort: flat[2],
    downstreamLocalAddress: flat[3],
    downstreamLocalPort: flat[4],
    routeClusterName: flat[5],
  };
  if (flat[6] !== undefined) info.dynamicMetadata = flat[6];
  if (flat[7] !== undefined) info.routeProperties = flat[7];
  return info;
}

/** A cluster as it crosses to a worker (URL objects do not survive structured cloning). */
export interface WorkerCluster {
  name: string;
  url: string;
  http2: boolean;
  connectTimeoutMs: number;
  /** Callouts from a worker use the cluster's TLS too (Buffers survive the structured clone). */
  tls?: import("../config/tls-config").UpstreamTlsConfig | null;
}

/** `workerData` of a filter worker. */
export interface FilterWorkerInit {
  filters: WasmFilterConfig[];
  /** Wasm services this worker runs: the per-worker ones, and the singletons in worker 0 only. */
  services: WasmFilterConfig[];
  /** The bootstrap's `node` property. */
  node?: Record<string, unknown>;
  clusters: WorkerCluster[];
  hotReload: boolean;
  /** DevProxyConfig.bufferLimitBytes. */
  bufferLimitBytes: number;
  logLevel: LogLevelName;
  colour: boolean;
  /** Port to the main thread's SharedStateService, and the flag it notifies on. */
  statePort: import("node:worker_threads").MessagePort;
  stateFlag: SharedArrayBuffer;
  /** CallbackGuard cells. */
  guardCells: SharedArrayBuffer;
}

/**
 * Collects messages and posts them as one batch once the current event-loop turn's I/O has been
 * handled (setImmediate runs right after the poll phase). A postMessage has a fixed cost far
 * above the cost of cloning a few headers, so under load the events of every stream that had
 * I/O in this turn share one message instead of costing one each.
 */
export class Outbox {
  private items: WorkerBatch = [];

  constructor(private readonly post: (batch: WorkerBatch) => void) {}

  send(op: number, id = 0, a?: unknown, b?: unknown): void {
    if (this.items.length === 0) setImmediate(this.flush);
    this.items.push(op, id, a, b);
  }

  readonly flush = (): void => {
    if (this.items.length === 0) return;
    const batch = this.items;
    this.items = [];
    this.post(batch);
  };
}

/** An exact-length copy of `bytes`, cheap to clone across threads. */
export function transferable(bytes: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes);
}

/** A Buffer view of bytes that arrived from another thread (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
