/**
 * Buffer hostcalls (reference §5.4, §4.11) and the 0.1.0 `proxy_get_configuration` (§5.16).
 * Reads clamp instead of failing; writes follow Envoy's prepend/replace/append rules.
 */
import { BodyBuffer } from "../body-buffer";
import { BufferType, MAX_BUFFER_TYPE, Result } from "../constants";
import type { Context } from "../context";
import type { Vm } from "../vm";
import type { HostcallTable } from "./table";

const EMPTY_BUFFER = new BodyBuffer(undefined, false);

/** The buffer `type` refers to for the active context, or null when Envoy answers NotFound. */
export function bufferFor(vm: Vm, context: Context, type: number): BodyBuffer | null {
  switch (type) {
    case BufferType.HttpRequestBody:
    case BufferType.HttpResponseBody:
    case BufferType.DownstreamData:
    case BufferType.UpstreamData:
      // Envoy always has a buffer wrapper here; outside the data callbacks it is empty.
      return context.buffers[type] ?? EMPTY_BUFFER;
    case BufferType.HttpCallResponseBody:
      return context.buffers[type] ?? context.root.buffers[type];
    case BufferType.GrpcReceiveBuffer:
      return context.buffers[type] ?? context.root.buffers[type] ?? EMPTY_BUFFER;
    case BufferType.VmConfiguration:
      return new BodyBuffer(vm.vmConfiguration, false);
    case BufferType.PluginConfiguration:
      return context.root.configurationReadable ? new BodyBuffer(context.plugin.configuration, false) : null;
    case BufferType.CallData:
      return new BodyBuffer(vm.callData, false);
    default:
      return null;
  }
}

export function bufferHostcalls(vm: Vm): HostcallTable {
  return {
    proxy_get_buffer_bytes(type: number, start: number, length: number, pointerPointer: number, sizePointer: number): number {
      try {
        vm.checkUnrestricted("proxy_get_buffer_bytes");
        if (type >>> 0 > MAX_BUFFER_TYPE) return Result.BadArgument;
        const buffer = bufferFor(vm, vm.activeContext(), type);
        if (buffer === null) {
          vm.reportUnavailable("proxy_get_buffer_bytes", `buffer ${type} is not available in this callback`);
          return Result.NotFound;
        }
        return vm.returnBytes(buffer.read(start >>> 0, length >>> 0), pointerPointer, sizePointer);
      } catch (error) {
        return vm.hostcallError(error);
      }
    },

    proxy_get_buffer_status(type: number, lengthPointer: number, flagsPointer: number): number {
      try {
        vm.checkUnrestricted("proxy_get_buffer_status");
        if (type >>> 0 > MAX_BUFFER_TYPE) return Result.BadArgument;
        const buffer = bufferFor(vm, vm.activeContext(), type);
        if (buffer === null) {
          vm.reportUnavailable("proxy_get_buffer_status", `buffer ${type} is not available in this callback`);
          return Result.NotFound;
        }
        vm.writeU32(lengthPointer, buffer.length);
        // cpp-host never reports end-of-stream here.
        vm.writeU32(flagsPointer, 0);
        return Result.Ok;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },

    proxy_set_buffer_bytes(type: number, start: number, length: number, dataPointer: number, dataSize: number): number {
      try {
        vm.checkUnrestricted("proxy_set_buffer_bytes");
        if (type >>> 0 > MAX_BUFFER_TYPE) return Result.BadArgument;
        const data = vm.readBytes(dataPointer, dataSize);
        const context = vm.activeContext();
        const buffer = bufferFor(vm, context, type);
        if (buffer === null) return Result.NotFound;
        if (buffer === EMPTY_BUFFER) {
          vm.reportUnavailable("proxy_set_buffer_bytes", `buffer ${type} is not held in this callback`);
          return Result.BadArgument;
        }
        return buffer.write(start >>> 0, length >>> 0, data);
      } catch (error) {
        return vm.hostcallError(error);
      }
    },

    proxy_get_configuration(pointerPointer: number, sizePointer: number): number {
      try {
        vm.checkUnrestricted("proxy_get_configuration");
        const root = vm.activeContext().root;
        const data = root.configurationReadable ? root.plugin.configuration : vm.vmConfiguration;
        return vm.returnBytes(data, pointerPointer, sizePointer);
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
  };
}
