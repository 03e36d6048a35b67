import type { MessagePort } from "node:worker_threads";
import type { SharedDataStore } from "../../host/shared-data";
import type { SharedQueueRegistry } from "../../host/shared-queues";
import { newProcessSharedState, type ProcessSharedState } from "../process-shared-state";

/**
 * Shared data and shared queues for every worker of the dev proxy, kept in the main thread so
 * all VMs see one store (one CAS counter, one token counter), as in Envoy where they are
 * process-wide. Workers ask synchronously (see SharedStateClient): the request arrives on the
 * worker's state port, the answer is posted back on it and the worker is woken through
 * `Atomics.notify` on its flag.
 */
export type SharedStateRequest =
  | { op: "get"; vmId: string; key: string }
  | { op: "set"; vmId: string; key: string; value: Uint8Array; cas: number }
  | { op: "register"; vmId: string; name: string; targetId: number }
  | { op: "resolve"; vmId: string; name: string }
  | { op: "enqueue"; token: number; data: Uint8Array }
  | { op: "dequeue"; token: number };

/** `value` is a result code (number), bytes, an entry, or undefined for a missing key / token. */
export type SharedStateReply = { value: number | Uint8Array | { value: Uint8Array; cas: number } | undefined };

/** Tells a worker that one of its registered queues has an item (`proxy_on_queue_ready`). */
export type QueueReadyNotifier = (targetId: number, token: number) => void;

export class SharedStateService {
  readonly data: SharedDataStore;
  readonly queues: SharedQueueRegistry;
  private readonly ports = new Set<MessagePort>();

  /** Serves `shared` (the dev proxy's, which its network filters use too), or a store of its own. */
  constructor(shared: ProcessSharedState = newProcessSharedState()) {
    this.data = shared.data;
    this.queues = shared.queues;
  }

  /**
   * Serves one worker: `port` carries its requests, `flag` (an Int32Array over a
   * SharedArrayBuffer) is set to 1 and notified once the reply is posted. `notifyQueue` reaches
   * that worker for the queues it registers; a replaced worker's registrations keep pointing to
   * the dead one until its successor registers again, and notifications to it are dropped.
   */
  serve(port: MessagePort, flag: Int32Array, notifyQueue: QueueReadyNotifier): () => void {
    this.ports.add(port);
    port.on("message", (request: SharedStateRequest) => {
      let reply: SharedStateReply;
      try {
        reply = { value: this.answer(request, notifyQueue) };
      } catch {
        reply = { value: undefined };
      }
      port.postMessage(reply);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    });
    return () => {
      this.ports.delete(port);
      port.close();
    };
  }

  close(): void {
    for (const port of this.ports) port.close();
    this.ports.clear();
  }

  private answer(request: SharedStateRequest, notifyQueue: QueueReadyNotifier): SharedStateReply["value"] {
    switch (request.op) {
      case "get":
        return this.data.get(request.vmId, request.key);
      case "set":
        return this.data.set(request.vmId, request.key, request.value, request.cas);
      case "register": {
        const targetId = request.targetId;
        return this.queues.register(request.vmId, request.name, { notify: (token) => notifyQueue(targetId, token) });
      }
      case "resolve":
        return this.queues.resolve(request.vmId, request.name);
      case "enqueue":
        return this.queues.enqueue(request.token, request.data);
      case "dequeue":
        return this.queues.dequeue(request.token);
    }
  }
}
