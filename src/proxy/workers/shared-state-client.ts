import { receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import type { ResultCode } from "../../host/constants";
import { Result } from "../../host/constants";
import { SharedDataStore } from "../../host/shared-data";
import { SharedQueueRegistry, type QueueTarget } from "../../host/shared-queues";
import type { SharedStateReply, SharedStateRequest } from "./shared-state-service";

/**
 * A worker's synchronous line to the main thread's SharedStateService. Hostcalls must answer
 * before they return, so a request blocks the worker (`Atomics.wait`) until the main thread
 * posted the reply and flipped the flag; the reply is then taken off the port with
 * `receiveMessageOnPort`, never through the event loop.
 */
export class SharedStateLine {
  constructor(
    private readonly port: MessagePort,
    private readonly flag: Int32Array,
  ) {}

  ask(request: SharedStateRequest): SharedStateReply["value"] {
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage(request);
    for (;;) {
      Atomics.wait(this.flag, 0, 0, 1000);
      const received = receiveMessageOnPort(this.port);
      if (received !== undefined) return (received.message as SharedStateReply).value;
    }
  }
}

/** Shared data whose partitions live in the main thread; same contract as SharedDataStore. */
export class RemoteSharedDataStore extends SharedDataStore {
  constructor(private readonly line: SharedStateLine) {
    super();
  }

  override get(vmId: string, key: string): { value: Uint8Array; cas: number } | undefined {
    return this.line.ask({ op: "get", vmId, key }) as { value: Uint8Array; cas: number } | undefined;
  }

  override set(vmId: string, key: string, value: Uint8Array, cas: number): ResultCode {
    return this.line.ask({ op: "set", vmId, key, value: value.slice(), cas }) as ResultCode;
  }
}

/**
 * Shared queues living in the main thread. A registration names this worker's target by id; the
 * main thread sends `queue-ready` for it, which `notify` delivers here.
 */
export class RemoteQueueRegistry extends SharedQueueRegistry {
  private readonly targets = new Map<number, QueueTarget>();
  private nextTargetId = 1;

  constructor(private readonly line: SharedStateLine) {
    super(() => {});
  }

  override register(vmId: string, name: string, target: QueueTarget): number {
    const targetId = this.nextTargetId++;
    this.targets.set(targetId, target);
    return this.line.ask({ op: "register", vmId, name, targetId }) as number;
  }

  override resolve(vmId: string, name: string): number | undefined {
    return this.line.ask({ op: "resolve", vmId, name }) as number | undefined;
  }

  override enqueue(token: number, data: Uint8Array): ResultCode {
    return this.line.ask({ op: "enqueue", token, data: data.slice() }) as ResultCode;
  }

  override dequeue(token: number): Uint8Array | typeof Result.NotFound | typeof Result.Empty {
    return this.line.ask({ op: "dequeue", token }) as Uint8Array | typeof Result.NotFound | typeof Result.Empty;
  }

  /** The main thread reports an item for one of this worker's registrations. */
  notify(targetId: number, token: number): void {
    this.targets.get(targetId)?.notify(token);
  }
}
