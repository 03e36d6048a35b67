/**
 * Shared key/value data across VMs with the same vm_id (reference §5.11).
 */
import { Result } from "../constants";
import type { Vm } from "../vm";
import type { HostcallTable } from "./table";

export function sharedDataHostcalls(vm: Vm): HostcallTable {
  const store = vm.process.sharedData;
  const latin1 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  return {
    proxy_get_shared_data(keyPointer: number, keySize: number, valuePointerPointer: number, valueSizePointer: number, casPointer: number): number {
      try {
        vm.checkUnrestricted("proxy_get_shared_data");
        const entry = store.get(vm.vmId, latin1(vm.readBytes(keyPointer, keySize)));
        if (entry === undefined) return Result.NotFound;
        vm.writeU32(casPointer, entry.cas);
        return vm.returnBytes(entry.value, valuePointerPointer, valueSizePointer);
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
    proxy_set_shared_data(keyPointer: number, keySize: number, valuePointer: number, valueSize: number, cas: number): number {
      try {
        vm.checkUnrestricted("proxy_set_shared_data");
        const key = latin1(vm.readBytes(keyPointer, keySize));
        return store.set(vm.vmId, key, vm.readBytes(valuePointer, valueSize), cas >>> 0);
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
  };
}
