/**
 * Stream control (reference §5.6): continue and close are recorded on the active context and
 * applied by its driver after the callback returns, never re-entrantly.
 */
import { Result, StreamType } from "../constants";
import type { Vm } from "../vm";
import type { HostcallTable } from "./table";

export function streamControlHostcalls(vm: Vm): HostcallTable {
  function requestContinue(type: number): number {
    const context = vm.activeContext();
    context.pendingContinue |= 1 << type;
    vm.markPendingActions(context);
    return Result.Ok;
  }

  return {
    proxy_continue_stream(type: number): number {
      vm.checkUnrestricted("proxy_continue_stream");
      if (type >>> 0 > StreamType.Upstream) return Result.BadArgument;
      if (type === StreamType.Upstream) return Result.Unimplemented;
      return requestContinue(type);
    },
    proxy_close_stream(type: number): number {
      vm.checkUnrestricted("proxy_close_stream");
      if (type >>> 0 > StreamType.Upstream) return Result.BadArgument;
      const context = vm.activeContext();
      context.pendingClose |= 1 << type;
      vm.markPendingActions(context);
      return Result.Ok;
    },
    proxy_continue_request(): number {
      vm.checkUnrestricted("proxy_continue_request");
      return requestContinue(StreamType.Request);
    },
    proxy_continue_response(): number {
      vm.checkUnrestricted("proxy_continue_response");
      return requestContinue(StreamType.Response);
    },
    proxy_clear_route_cache(): number {
      vm.checkUnrestricted("proxy_clear_route_cache");
      const context = vm.activeContext();
      vm.process.foreignFunctions.clearRouteCache(new Uint8Array(0), { contextId: context.id, pluginName: context.plugin.name, vmId: vm.vmId, context });
      return Result.Ok;
    },
  };
}
