/**
 * `proxy_set_effective_context`, `proxy_done` and `proxy_get_status` (reference §4.7, §4.9, §5.10,
 * §5.15).
 */
import { Result } from "../constants";
import { toBytes } from "../bytes";
import type { Vm } from "../vm";
import type { HostcallTable } from "./table";

export function contextHostcalls(vm: Vm): HostcallTable {
  return {
    proxy_set_effective_context(contextId: number): number {
      vm.checkUnrestricted("proxy_set_effective_context");
      return vm.setEffectiveContext(contextId >>> 0) ? Result.Ok : Result.BadArgument;
    },
    proxy_done(): number {
      vm.checkUnrestricted("proxy_done");
      const root = vm.activeContext().root;
      if (!root.pendingDone || root.doneRequested) return Result.NotFound;
      root.doneRequested = true;
      // Envoy deletes the root context after the current callback returns, never inside proxy_done.
      vm.runWhenIdle(() => vm.deleteContext(root));
      return Result.Ok;
    },
    proxy_get_status(codePointer: number, messagePointerPointer: number, messageSizePointer: number): number {
      try {
        vm.checkUnrestricted("proxy_get_status");
        const root = vm.activeContext().root;
        vm.writeU32(codePointer, root.statusCode);
        return vm.returnBytes(toBytes(root.statusMessage), messagePointerPointer, messageSizePointer);
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
  };
}
