/**
 * Shared queues keyed by (vm_id, name) with a global token counter (reference §5.12). Each enqueue
 * schedules one notification to the latest registrant, posted to run after the current callback.
 */
import { Result, type ResultCode } from "./constants";

/** Who `proxy_on_queue_ready` goes to: a root context in some VM. */
export interface QueueTarget {
  notify(token: number): void;
}

interface SharedQueue {
  readonly token: number;
  readonly vmId: string;
  readonly name: string;
  readonly items: Uint8Array[];
  target: QueueTarget;
}

export class SharedQueueRegistry {
  private readonly byName = new Map<string, SharedQueue>();
  private readonly byToken = new Map<number, SharedQueue>();
  private nextToken = 1;

  constructor(private readonly post: (task: () => void) => void) {}

  /** Registers (or re-registers, moving notifications to `target`) and returns the token. */
  register(vmId: string, name: string, target: QueueTarget): number {
    const key = vmId + "\u0000" + name;
    const existing = this.byName.get(key);
    if (existing !== undefined) {
      existing.target = target;
      return existing.token;
    }
    const queue: SharedQueue = { token: this.nextToken++, vmId, name, items: [], target };
    this.byName.set(key, queue);
    this.byToken.set(queue.token, queue);
    return queue.token;
  }

  /** The token of a registered queue, or undefined. */
  resolve(vmId: string, name: string): number | undefined {
    return this.byName.get(vmId + "\u0000" + name)?.token;
  }

  enqueue(token: number, data: Uint8Array): ResultCode {
    const queue = this.byToken.get(token);
    if (queue === undefined) return Result.NotFound;
    queue.items.push(data.slice());
    // The target is taken now, as cpp-host does under its lock: a later re-registration moves
    // only notifications for later enqueues.
    const target = queue.target;
    this.post(() => target.notify(token));
    return Result.Ok;
  }

  /** Pops the front item: `NotFound` for an unknown token, `Empty` when there is nothing. */
  dequeue(token: number): Uint8Array | typeof Result.NotFound | typeof Result.Empty {
    const queue = this.byToken.get(token);
    if (queue === undefined) return Result.NotFound;
    const item = queue.items.shift();
    return item === undefined ? Result.Empty : item;
  }

  /** Items waiting in a queue, for tests. */
  pending(vmId: string, name: string): readonly Uint8Array[] {
    return this.byName.get(vmId + "\u0000" + name)?.items ?? [];
  }
}
