import type { WasmFilterConfig } from "../config/dev-proxy-config";
import type { LogLevelName } from "../proxy-logger";

/**
 * Messages between the dev proxy's main thread and its filter workers. Each postMessage carries a
 * batch (an array) of tuples `[op, id, a?, b?]`: stream events keyed by stream id, plus a few
 * control messages. Byte chunks travel as exact-length Uint8Arrays (a Buffer from a pool would
 * drag its whole pool through the structured clone).
 */
export const Op = {
  /** main → worker: `[Open, streamId, HttpStreamInfo]`. */
  Open: 0,
  /** both ways: `[.., streamId, HeaderList, endOfStream]`, `[.., streamId, Uint8Array, endOfStream]`, `[.., streamId, HeaderList]`. */
  RequestHeaders: 1,
  RequestBody: 2,
  RequestTrailers: 3,
  ResponseHeaders: 4,
  ResponseBody: 5,
  ResponseTrailers: 6,
  /** main → worker: the stream is over. */
  Finish: 7,
  /** worker → main: `[LocalReply, streamId, LocalReply]` and `[Reset, streamId, reason]`. */
  LocalReply: 8,
  Reset: 9,
  /** main → worker: `[QueueReady, targetId, token]`. */
  QueueReady: 10,
  /** main → worker: `[SetLogLevel, 0, LogLevelName]`. */
  SetLogLevel: 11,
  /** main → worker `[StatsRequest, requestId]`; worker → main `[Stats, requestId, MetricSample[]]`. */
  StatsRequest: 12,
  Stats: 13,
  /** worker → main: `[Log, 0, text]`, lines already formatted with the worker's thread id. */
  Log: 14,
  /** worker → main: `[Ready]` once the VMs started, or `[BootFailed, 0, message]`. */
  Ready: 15,
  BootFailed: 16,
} as const;

export type WorkerMessage = [op: number, id?: number, a?: unknown, b?: unknown];

/** A cluster as it crosses to a worker (URL objects do not survive structured cloning). */
export interface WorkerCluster {
  name: string;
  url: string;
  http2: boolean;
  connectTimeoutMs: number;
}

/** `workerData` of a filter worker. */
export interface FilterWorkerInit {
  filters: WasmFilterConfig[];
  clusters: WorkerCluster[];
  hotReload: boolean;
  logLevel: LogLevelName;
  colour: boolean;
  /** Port to the main thread's SharedStateService, and the flag it notifies on. */
  statePort: import("node:worker_threads").MessagePort;
  stateFlag: SharedArrayBuffer;
  /** CallbackGuard cells. */
  guardCells: SharedArrayBuffer;
}

/**
 * Collects messages and posts them as one batch at the end of the current job, so the events
 * one I/O callback produces (headers, then body) cost one postMessage.
 */
export class Outbox {
  private items: WorkerMessage[] = [];

  constructor(private readonly post: (batch: WorkerMessage[]) => void) {}

  send(message: WorkerMessage): void {
    if (this.items.length === 0) queueMicrotask(this.flush);
    this.items.push(message);
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
