/**
 * Time and ticks (reference §5.2, §5.3). The tick timer belongs to the root context of the caller;
 * each call re-arms it (period 0 cancels); after each tick it is re-armed with a fixed delay,
 * unless the module does not export `proxy_on_tick`.
 */
import { Result } from "../constants";
import type { Context } from "../context";
import type { Vm } from "../vm";
import type { HostcallTable } from "./table";

/** (Re)arms `root`'s tick timer for its current period. */
export function armTick(vm: Vm, root: Context): void {
  const scheduler = vm.process.scheduler;
  if (root.tickTimer !== null) scheduler.cancelTimer(root.tickTimer);
  root.tickTimer = null;
  if (root.tickPeriodMs === 0 || root.deleted || vm.failed) return;
  root.tickTimer = scheduler.setTimer(root.tickPeriodMs, () => {
    root.tickTimer = null;
    const onTick = vm.callback("proxy_on_tick");
    if (onTick === undefined || root.deleted) return;
    vm.invoke("proxy_on_tick", onTick, root, root.id);
    // The tick may have changed or cancelled the period; only re-arm when nothing did so.
    if (root.tickTimer === null) armTick(vm, root);
  });
}

export function timerHostcalls(vm: Vm): HostcallTable {
  return {
    proxy_set_tick_period_milliseconds(periodMs: number): number {
      vm.checkUnrestricted("proxy_set_tick_period_milliseconds");
      const root = vm.activeContext().root;
      root.tickPeriodMs = periodMs >>> 0;
      armTick(vm, root);
      return Result.Ok;
    },
    proxy_get_current_time_nanoseconds(resultPointer: number): number {
      try {
        vm.checkUnrestricted("proxy_get_current_time_nanoseconds");
        vm.writeU64(resultPointer, vm.process.scheduler.nowNanos());
        return Result.Ok;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
  };
}
