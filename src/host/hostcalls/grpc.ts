/**
 * gRPC calls and streams (reference §5.9). The service bytes are taken as a cluster name (an
 * unknown one is `ParseFailure`); serialized `GrpcService` protos are not parsed. Events go to the
 * caller's root context once the VM is idle.
 */
import { BodyBuffer } from "../body-buffer";
import { BufferType, MapType, Result } from "../constants";
import type { GrpcCallout } from "../callouts";
import type { Context } from "../context";
import { HeaderMap } from "../header-map";
import { decodePairs } from "../pairs";
import type { Vm } from "../vm";
import type { HostcallTable } from "./table";

interface GrpcState {
  callout: GrpcCallout;
  localClosed: boolean;
  remoteClosed: boolean;
  cancelled: boolean;
  messages: Uint8Array[];
}

export function grpcHostcalls(vm: Vm): HostcallTable {
  const live = new Map<number, GrpcState>();

  function deliver(root: Context, token: number, event: () => void): void {
    vm.runWhenIdle(() => {
      const state = live.get(token);
      if (state === undefined || state.cancelled || root.deleted || vm.failed) return;
      event();
    });
  }

  function open(kind: "grpc-call" | "grpc-stream", cluster: string, serviceName: string, methodName: string, metadata: HeaderMap, message: Uint8Array | null, timeoutMs: number): number {
    const token = kind === "grpc-call" ? (vm.nextGrpcCallToken += 4) : (vm.nextGrpcStreamToken += 4);
    const root = vm.activeContext().root;
    const state: GrpcState = { localClosed: kind === "grpc-call", remoteClosed: false, cancelled: false, messages: message === null ? [] : [message], callout: undefined as unknown as GrpcCallout };
    const finish = () => {
      state.remoteClosed = true;
      if (state.localClosed || kind === "grpc-call") live.delete(token);
    };
    state.callout = {
      kind,
      token,
      cluster,
      serviceName,
      methodName,
      initialMetadata: metadata,
      messages: state.messages,
      timeoutMs,
      get localClosed() {
        return state.localClosed;
      },
      get cancelled() {
        return state.cancelled;
      },
      get settled() {
        return !live.has(token);
      },
      receive(received: Uint8Array) {
        deliver(root, token, () => {
          root.buffers[BufferType.GrpcReceiveBuffer] = new BodyBuffer(received, false);
          try {
            vm.invoke("proxy_on_grpc_receive", vm.callback("proxy_on_grpc_receive"), root, root.id, token, received.length);
          } finally {
            root.buffers[BufferType.GrpcReceiveBuffer] = null;
          }
          if (kind === "grpc-call") live.delete(token);
        });
      },
      receiveInitialMetadata(received: HeaderMap) {
        deliver(root, token, () => {
          root.headerMaps[MapType.GrpcReceiveInitialMetadata] = received;
          try {
            vm.invoke("proxy_on_grpc_receive_initial_metadata", vm.callback("proxy_on_grpc_receive_initial_metadata"), root, root.id, token, received.size);
          } finally {
            root.headerMaps[MapType.GrpcReceiveInitialMetadata] = null;
          }
        });
      },
      receiveTrailingMetadata(received: HeaderMap) {
        deliver(root, token, () => {
          root.headerMaps[MapType.GrpcReceiveTrailingMetadata] = received;
          try {
            vm.invoke("proxy_on_grpc_receive_trailing_metadata", vm.callback("proxy_on_grpc_receive_trailing_metadata"), root, root.id, token, received.size);
          } finally {
            root.headerMaps[MapType.GrpcReceiveTrailingMetadata] = null;
          }
        });
      },
      close(status: number, statusMessage = "") {
        deliver(root, token, () => {
          finish();
          root.statusCode = status;
          root.statusMessage = statusMessage;
          vm.invoke("proxy_on_grpc_close", vm.callback("proxy_on_grpc_close"), root, root.id, token, status);
        });
      },
    };
    live.set(token, state);
    vm.process.upstream?.dispatch(state.callout);
    return token;
  }

  function readCommon(servicePointer: number, serviceSize: number, namePointer: number, nameSize: number, methodPointer: number, methodSize: number, metadataPointer: number, metadataSize: number) {
    return {
      cluster: vm.readString(servicePointer, serviceSize),
      serviceName: vm.readString(namePointer, nameSize),
      methodName: vm.readString(methodPointer, methodSize),
      metadata: HeaderMap.fromPairs(decodePairs(vm.readBytes(metadataPointer, metadataSize))),
    };
  }

  return {
    proxy_grpc_call(sp: number, ss: number, np: number, ns: number, mp: number, ms: number, mdp: number, mds: number, msgp: number, msgs: number, timeoutMs: number, tokenPointer: number): number {
      try {
        vm.checkUnrestricted("proxy_grpc_call");
        const common = readCommon(sp, ss, np, ns, mp, ms, mdp, mds);
        const message = vm.readBytes(msgp, msgs);
        // Unlike proxy_http_call, the token is written only on success (§5.9).
        if (!vm.process.clusters.has(common.cluster)) return Result.ParseFailure;
        const token = open("grpc-call", common.cluster, common.serviceName, common.methodName, common.metadata, message, timeoutMs >>> 0);
        vm.writeU32(tokenPointer, token);
        return Result.Ok;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
    proxy_grpc_stream(sp: number, ss: number, np: number, ns: number, mp: number, ms: number, mdp: number, mds: number, tokenPointer: number): number {
      try {
        vm.checkUnrestricted("proxy_grpc_stream");
        const common = readCommon(sp, ss, np, ns, mp, ms, mdp, mds);
        if (!vm.process.clusters.has(common.cluster)) return Result.ParseFailure;
        const token = open("grpc-stream", common.cluster, common.serviceName, common.methodName, common.metadata, null, 0);
        vm.writeU32(tokenPointer, token);
        return Result.Ok;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
    proxy_grpc_send(token: number, messagePointer: number, messageSize: number, endStream: number): number {
      try {
        vm.checkUnrestricted("proxy_grpc_send");
        const message = vm.readBytes(messagePointer, messageSize);
        if ((token & 3) !== 2) return Result.BadArgument;
        const state = live.get(token >>> 0);
        if (state === undefined) return Result.NotFound;
        const wasClosed = state.localClosed;
        state.messages.push(message);
        if (endStream !== 0) state.localClosed = true;
        // Nothing can follow a half-close on the wire, so later sends stay local.
        if (!wasClosed) vm.process.upstream?.sent?.(state.callout, message, endStream !== 0);
        return Result.Ok;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
    proxy_grpc_cancel(token: number): number {
      vm.checkUnrestricted("proxy_grpc_cancel");
      const kind = token & 3;
      if (kind !== 1 && kind !== 2) return Result.BadArgument;
      const state = live.get(token >>> 0);
      if (state === undefined) return Result.NotFound;
      state.cancelled = true;
      live.delete(token >>> 0);
      vm.process.upstream?.cancelled?.(state.callout);
      return Result.Ok;
    },
    proxy_grpc_close(token: number): number {
      vm.checkUnrestricted("proxy_grpc_close");
      const kind = token & 3;
      if (kind !== 1 && kind !== 2) return Result.BadArgument;
      const state = live.get(token >>> 0);
      if (state === undefined) return Result.NotFound;
      if (kind === 1) {
        state.cancelled = true;
        live.delete(token >>> 0);
        vm.process.upstream?.cancelled?.(state.callout);
      } else {
        const wasClosed = state.localClosed;
        state.localClosed = true;
        if (state.remoteClosed) live.delete(token >>> 0);
        else if (!wasClosed) vm.process.upstream?.closedLocally?.(state.callout);
      }
      return Result.Ok;
    },
  };
}
