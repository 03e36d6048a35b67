/**
 * Header map hostcalls (reference §5.5) with Envoy's availability rules (§4.11): each call acts on
 * the map the active context holds right now; the odd codes (pairs of an unavailable map = Ok and
 * empty, NotFound inside on_log) are Envoy's.
 */
import { EMPTY_BYTES } from "../bytes";
import { MAX_MAP_TYPE, Result } from "../constants";
import type { Context } from "../context";
import type { HeaderMap } from "../header-map";
import { decodePairs, encodePairs } from "../pairs";
import type { Vm } from "../vm";
import type { HostcallTable } from "./table";

/** Maps only the callout/gRPC callbacks hold; the SDK may read them with the stream as effective context. */
const CALLBACK_ONLY_MAPS = 0b11110000;

/** The map of `type` the active context can read, falling back to its root for callback-only maps. */
export function readableMap(context: Context, type: number): HeaderMap | null {
  const map = context.headerMaps[type];
  if (map !== null) return map;
  return (CALLBACK_ONLY_MAPS >> type) & 1 ? context.root.headerMaps[type] : null;
}

function writableMap(context: Context, type: number): HeaderMap | null {
  const map = context.headerMaps[type];
  return map !== null && (context.writableMaps >> type) & 1 ? map : null;
}

export function headerHostcalls(vm: Vm): HostcallTable {
  const legacy = vm.abiVersion === "0.1.0";

  function writeTarget(hostcall: string, type: number): HeaderMap | null {
    const map = writableMap(vm.activeContext(), type);
    if (map === null) vm.reportUnavailable(hostcall, `map ${type} is not writable in this callback`);
    return map;
  }

  return {
    proxy_get_header_map_value(type: number, keyPointer: number, keySize: number, valuePointerPointer: number, valueSizePointer: number): number {
      try {
        vm.checkUnrestricted("proxy_get_header_map_value");
        if (type >>> 0 > MAX_MAP_TYPE) return Result.BadArgument;
        const key = vm.readSharedBytes(keyPointer, keySize);
        const context = vm.activeContext();
        const map = readableMap(context, type);
        if (map === null) {
          vm.reportUnavailable("proxy_get_header_map_value", `map ${type} is not available in this callback`);
          if (!context.inLogPhase) return Result.BadArgument;
          if (!legacy) return Result.NotFound;
          return vm.returnBytes(EMPTY_BYTES, valuePointerPointer, valueSizePointer);
        }
        const value = map.get(key);
        if (value === undefined) {
          if (!legacy) return Result.NotFound;
          return vm.returnBytes(EMPTY_BYTES, valuePointerPointer, valueSizePointer);
        }
        return vm.returnBytes(value, valuePointerPointer, valueSizePointer);
      } catch (error) {
        return vm.hostcallError(error);
      }
    },

    proxy_get_header_map_pairs(type: number, pointerPointer: number, sizePointer: number): number {
      try {
        vm.checkUnrestricted("proxy_get_header_map_pairs");
        if (type >>> 0 > MAX_MAP_TYPE) return Result.BadArgument;
        const map = readableMap(vm.activeContext(), type);
        if (map === null) vm.reportUnavailable("proxy_get_header_map_pairs", `map ${type} is not available in this callback`);
        return vm.returnBytes(map === null ? EMPTY_BYTES : encodePairs(map.pairs()), pointerPointer, sizePointer);
      } catch (error) {
        return vm.hostcallError(error);
      }
    },

    proxy_set_header_map_pairs(type: number, pointer: number, size: number): number {
      try {
        vm.checkUnrestricted("proxy_set_header_map_pairs");
        if (type >>> 0 > MAX_MAP_TYPE) return Result.BadArgument;
        const pairs = decodePairs(vm.readBytes(pointer, size));
        const map = writeTarget("proxy_set_header_map_pairs", type);
        if (map === null) return Result.BadArgument;
        // Envoy removes every key first, then adds the pairs: a malformed payload clears the map.
        map.clear();
        for (const [key, value] of pairs) map.add(key, value);
        return Result.Ok;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },

    proxy_add_header_map_value(type: number, keyPointer: number, keySize: number, valuePointer: number, valueSize: number): number {
      try {
        vm.checkUnrestricted("proxy_add_header_map_value");
        if (type >>> 0 > MAX_MAP_TYPE) return Result.BadArgument;
        const key = vm.readSharedBytes(keyPointer, keySize);
        const value = vm.readSharedBytes(valuePointer, valueSize);
        const map = writeTarget("proxy_add_header_map_value", type);
        if (map === null) return Result.BadArgument;
        map.add(key, value);
        return Result.Ok;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },

    proxy_replace_header_map_value(type: number, keyPointer: number, keySize: number, valuePointer: number, valueSize: number): number {
      try {
        vm.checkUnrestricted("proxy_replace_header_map_value");
        if (type >>> 0 > MAX_MAP_TYPE) return Result.BadArgument;
        const key = vm.readSharedBytes(keyPointer, keySize);
        const value = vm.readSharedBytes(valuePointer, valueSize);
        const map = writeTarget("proxy_replace_header_map_value", type);
        if (map === null) return Result.BadArgument;
        map.replace(key, value);
        return Result.Ok;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },

    proxy_remove_header_map_value(type: number, keyPointer: number, keySize: number): number {
      try {
        vm.checkUnrestricted("proxy_remove_header_map_value");
        if (type >>> 0 > MAX_MAP_TYPE) return Result.BadArgument;
        const key = vm.readSharedBytes(keyPointer, keySize);
        const map = writeTarget("proxy_remove_header_map_value", type);
        if (map === null) return Result.BadArgument;
        map.remove(key);
        return Result.Ok;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },

    proxy_get_header_map_size(type: number, sizePointer: number): number {
      try {
        vm.checkUnrestricted("proxy_get_header_map_size");
        if (type >>> 0 > MAX_MAP_TYPE) return Result.BadArgument;
        const map = writeTarget("proxy_get_header_map_size", type);
        if (map === null) return Result.BadArgument;
        vm.writeU32(sizePointer, map.byteSize);
        return Result.Ok;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
  };
}
