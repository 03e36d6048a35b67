/**
 * `proxy_send_local_response` (reference §5.7): recorded on the active HTTP stream and sent by its
 * driver once the callback returns; the callback's return value is then overridden to a stop.
 * From root or TCP contexts it does nothing and still returns Ok, as in Envoy.
 */
import { Result } from "../constants";
import { HeaderMap } from "../header-map";
import { decodePairs } from "../pairs";
import type { Vm } from "../vm";
import type { HostcallTable } from "./table";

export function localResponseHostcalls(vm: Vm): HostcallTable {
  return {
    proxy_send_local_response(
      status: number,
      detailsPointer: number,
      detailsSize: number,
      bodyPointer: number,
      bodySize: number,
      headersPointer: number,
      headersSize: number,
      grpcStatus: number,
    ): number {
      try {
        vm.checkUnrestricted("proxy_send_local_response");
        const details = vm.readString(detailsPointer, detailsSize).replace(/\s/g, "_");
        const body = vm.readBytes(bodyPointer, bodySize);
        const headers = HeaderMap.fromPairs(decodePairs(vm.readBytes(headersPointer, headersSize)));
        const context = vm.activeContext();
        if (context.kind !== "http") return Result.Ok;
        context.pendingLocalReply = {
          status: status >>> 0,
          details,
          body,
          headers,
          grpcStatus: grpcStatus >= 0 && grpcStatus <= 16 ? grpcStatus : undefined,
        };
        vm.markPendingActions(context);
        return Result.Ok;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
  };
}
