import { SharedDataStore } from "../host/shared-data";
import { SharedQueueRegistry } from "../host/shared-queues";

/**
 * The dev proxy's shared data and shared queues: one store and one registry for every VM of the
 * process (HTTP filters in this thread or in workers, network filters), partitioned by `vm_id`
 * inside, as Envoy keeps them process-wide (envoy source/extensions/common/wasm/context.cc
 * `getSharedData`/`registerSharedQueue` go to one global table).
 */
export interface ProcessSharedState {
  readonly data: SharedDataStore;
  readonly queues: SharedQueueRegistry;
}

export function newProcessSharedState(): ProcessSharedState {
  // Notifications run after the enqueuing callback returned, as cpp-host posts them.
  return { data: new SharedDataStore(), queues: new SharedQueueRegistry((task) => setImmediate(task)) };
}
