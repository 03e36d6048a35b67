/**
 * `proxy_call_foreign_function` (reference §5.17): looks the name up in the process registry.
 */
import { Result } from "../constants";
import type { Vm } from "../vm";
import type { HostcallTable } from "./table";

export function foreignHostcalls(vm: Vm): HostcallTable {
  return {
    proxy_call_foreign_function(
      namePointer: number,
      nameSize: number,
      argsPointer: number,
      argsSize: number,
      resultsPointerPointer: number,
      resultsSizePointer: number,
    ): number {
      try {
        vm.checkUnrestricted("proxy_call_foreign_function");
        const fn = vm.process.foreignFunctions.get(vm.readString(namePointer, nameSize));
        if (fn === undefined) return Result.NotFound;
        const context = vm.activeContext();
        const site = { contextId: context.kind === "root" ? 0 : context.id, pluginName: context.plugin.name, vmId: vm.vmId, context, streamInfo: context.streamInfo };
        const { result, output } = fn(vm.readBytes(argsPointer, argsSize), site);
        if (output !== undefined && output.length > 0) {
          if (resultsPointerPointer >>> 0 === 0) {
            if (resultsSizePointer >>> 0 !== 0) vm.writeU32(resultsSizePointer, output.length);
          } else {
            const written = vm.returnBytes(output, resultsPointerPointer, resultsSizePointer);
            if (written !== Result.Ok) return written;
          }
        } else {
          if (resultsPointerPointer >>> 0 !== 0) vm.writeU32(resultsPointerPointer, 0);
          if (resultsSizePointer >>> 0 !== 0) vm.writeU32(resultsSizePointer, 0);
        }
        return result;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
  };
}
