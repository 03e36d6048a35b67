/**
 * Logging hostcalls (reference §5.1): `proxy_log` (allowed everywhere, even during start and in
 * the allocator) and `proxy_get_log_level` (0.2.1).
 */
import { Result } from "../constants";
import type { Vm } from "../vm";
import type { HostcallTable } from "./table";

export function logHostcalls(vm: Vm): HostcallTable {
  return {
    proxy_log(level: number, pointer: number, size: number): number {
      try {
        if (level >>> 0 > 5) return Result.BadArgument;
        vm.wasmLog(level, vm.readString(pointer, size));
        return Result.Ok;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
    proxy_get_log_level(levelPointer: number): number {
      try {
        vm.checkUnrestricted("proxy_get_log_level");
        vm.writeU32(levelPointer, vm.process.logLevelValue);
        return Result.Ok;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
  };
}
