/**
 * Metrics (reference §5.13). The id's low two bits carry the type; Envoy's exact per-type rules
 * for increment/record/get and their result codes are kept.
 */
import { Result } from "../constants";
import { metricKindOf } from "../metrics";
import type { Vm } from "../vm";
import type { HostcallTable } from "./table";

export function metricHostcalls(vm: Vm): HostcallTable {
  return {
    proxy_define_metric(type: number, namePointer: number, nameSize: number, idPointer: number): number {
      try {
        vm.checkUnrestricted("proxy_define_metric");
        const kind = metricKindOf(type >>> 0);
        if (kind === undefined) return Result.BadArgument;
        const name = vm.readString(namePointer, nameSize);
        const id = vm.nextMetricIds[type];
        vm.writeU32(idPointer, id);
        vm.nextMetricIds[type] += 4;
        vm.metricIds.set(id, vm.process.metrics.define(name, kind));
        return Result.Ok;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
    proxy_increment_metric(id: number, offset: bigint): number {
      vm.checkUnrestricted("proxy_increment_metric");
      const type = id & 3;
      if (type >= 2) return Result.BadArgument;
      const metric = vm.metricIds.get(id >>> 0);
      if (metric === undefined) return Result.NotFound;
      if (type === 0) {
        if (offset <= 0n) return Result.BadArgument;
        metric.value += offset;
      } else {
        metric.value += offset;
        if (metric.value < 0n) metric.value = 0n;
      }
      return Result.Ok;
    },
    proxy_record_metric(id: number, value: bigint): number {
      vm.checkUnrestricted("proxy_record_metric");
      const metric = vm.metricIds.get(id >>> 0);
      if (metric === undefined) return Result.NotFound;
      const unsigned = BigInt.asUintN(64, value);
      if (metric.kind === "counter") metric.value += unsigned;
      else if (metric.kind === "gauge") metric.value = unsigned;
      else metric.samples.push(unsigned);
      return Result.Ok;
    },
    proxy_get_metric(id: number, resultPointer: number): number {
      try {
        vm.checkUnrestricted("proxy_get_metric");
        if ((id & 3) >= 2) return Result.BadArgument;
        const metric = vm.metricIds.get(id >>> 0);
        if (metric === undefined) return Result.NotFound;
        vm.writeU64(resultPointer, metric.value);
        return Result.Ok;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
  };
}
