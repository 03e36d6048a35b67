/**
 * Shared queues (reference §5.12). Notifications go to the registrant's root context, posted to
 * the process scheduler so they run after the current callback.
 */
import { Result } from "../constants";
import type { Vm } from "../vm";
import type { HostcallTable } from "./table";

export function sharedQueueHostcalls(vm: Vm): HostcallTable {
  const queues = vm.process.queues;
  return {
    proxy_register_shared_queue(namePointer: number, nameSize: number, tokenPointer: number): number {
      try {
        vm.checkUnrestricted("proxy_register_shared_queue");
        const name = vm.readString(namePointer, nameSize);
        const root = vm.activeContext().root;
        const token = queues.register(vm.vmId, name, {
          notify(token: number) {
            if (root.deleted) return;
            vm.invoke("proxy_on_queue_ready", vm.callback("proxy_on_queue_ready"), root, root.id, token);
          },
        });
        vm.writeU32(tokenPointer, token);
        return Result.Ok;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
    proxy_resolve_shared_queue(vmIdPointer: number, vmIdSize: number, namePointer: number, nameSize: number, tokenPointer: number): number {
      try {
        vm.checkUnrestricted("proxy_resolve_shared_queue");
        const vmId = vm.readString(vmIdPointer, vmIdSize);
        const name = vm.readString(namePointer, nameSize);
        const token = queues.resolve(vmId === "" ? vm.vmId : vmId, name);
        if (token === undefined) return Result.NotFound;
        vm.writeU32(tokenPointer, token);
        return Result.Ok;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
    proxy_enqueue_shared_queue(token: number, dataPointer: number, dataSize: number): number {
      try {
        vm.checkUnrestricted("proxy_enqueue_shared_queue");
        return queues.enqueue(token >>> 0, vm.readBytes(dataPointer, dataSize));
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
    proxy_dequeue_shared_queue(token: number, dataPointerPointer: number, dataSizePointer: number): number {
      try {
        vm.checkUnrestricted("proxy_dequeue_shared_queue");
        const item = queues.dequeue(token >>> 0);
        if (typeof item === "number") return item;
        return vm.returnBytes(item, dataPointerPointer, dataSizePointer);
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
  };
}
