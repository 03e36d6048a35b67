/**
 * `proxy_get_property` / `proxy_set_property` (reference §3.3–§3.5, §5.14).
 */
import { bytesToString } from "../bytes";
import { Result } from "../constants";
import { topLevelAttribute } from "../attributes";
import { encodePropertyValue, walkProperty } from "../property-values";
import type { Vm } from "../vm";
import type { HostcallTable } from "./table";

/** Splits a NUL-joined path; a trailing NUL (cpp-sdk style) is accepted. */
export function splitPropertyPath(path: Uint8Array): string[] {
  const text = bytesToString(path);
  const segments = text.split("\u0000");
  if (segments.length > 1 && segments[segments.length - 1] === "") segments.pop();
  return segments;
}

export function propertyHostcalls(vm: Vm): HostcallTable {
  return {
    proxy_get_property(pathPointer: number, pathSize: number, valuePointerPointer: number, valueSizePointer: number): number {
      try {
        vm.checkUnrestricted("proxy_get_property");
        const segments = splitPropertyPath(vm.readBytes(pathPointer, pathSize));
        const context = vm.activeContext();
        const value = walkProperty(topLevelAttribute(context, segments[0]), segments.slice(1));
        if (value === undefined) return Result.NotFound;
        const encoded = encodePropertyValue(value);
        if (encoded === undefined) return Result.SerializationFailure;
        return vm.returnBytes(encoded, valuePointerPointer, valueSizePointer);
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
    proxy_set_property(pathPointer: number, pathSize: number, valuePointer: number, valueSize: number): number {
      try {
        vm.checkUnrestricted("proxy_set_property");
        const path = bytesToString(vm.readBytes(pathPointer, pathSize));
        const value = vm.readBytes(valuePointer, valueSize);
        const info = vm.activeContext().streamInfo;
        if (info === null) return Result.NotFound;
        (info.filterState ??= new Map()).set(path, value);
        return Result.Ok;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
  };
}
