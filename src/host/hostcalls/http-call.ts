/**
 * `proxy_http_call` (reference §5.8). Calls are owned by the caller's root context; the answer is
 * delivered to it as `proxy_on_http_call_response` once the VM is idle (never re-entrantly).
 */
import { BodyBuffer } from "../body-buffer";
import { Result, MapType, BufferType } from "../constants";
import type { HttpCallout, HttpCalloutResponse } from "../callouts";
import type { Context } from "../context";
import { HeaderMap } from "../header-map";
import { decodePairs } from "../pairs";
import type { Vm } from "../vm";
import type { HostcallTable } from "./table";

const REQUIRED = [":path", ":method", ":authority"];

function deliverHttpResponse(vm: Vm, root: Context, token: number, response: HttpCalloutResponse | null): void {
  if (root.deleted || vm.failed) return;
  const onResponse = vm.callback("proxy_on_http_call_response");
  if (response === null) {
    root.statusCode = Result.BrokenConnection;
    root.statusMessage = "reset";
    vm.invoke("proxy_on_http_call_response", onResponse, root, root.id, token, 0, 0, 0);
    return;
  }
  root.headerMaps[MapType.HttpCallResponseHeaders] = response.headers;
  root.headerMaps[MapType.HttpCallResponseTrailers] = response.trailers;
  root.buffers[BufferType.HttpCallResponseBody] = new BodyBuffer(response.body, false);
  try {
    vm.invoke("proxy_on_http_call_response", onResponse, root, root.id, token, response.headers.size, response.body.length, response.trailers.size);
  } finally {
    root.headerMaps[MapType.HttpCallResponseHeaders] = null;
    root.headerMaps[MapType.HttpCallResponseTrailers] = null;
    root.buffers[BufferType.HttpCallResponseBody] = null;
  }
}

export function httpCallHostcalls(vm: Vm): HostcallTable {
  return {
    proxy_http_call(
      upstreamPointer: number,
      upstreamSize: number,
      headersPointer: number,
      headersSize: number,
      bodyPointer: number,
      bodySize: number,
      trailersPointer: number,
      trailersSize: number,
      timeoutMs: number,
      tokenPointer: number,
    ): number {
      try {
        vm.checkUnrestricted("proxy_http_call");
        vm.writeU32(tokenPointer, 0);
        const cluster = vm.readString(upstreamPointer, upstreamSize);
        const headers = HeaderMap.fromPairs(decodePairs(vm.readBytes(headersPointer, headersSize)));
        const body = vm.readBytes(bodyPointer, bodySize);
        const trailers = HeaderMap.fromPairs(decodePairs(vm.readBytes(trailersPointer, trailersSize)));
        if ((timeoutMs | 0) < 0) return Result.BadArgument;
        if (!vm.process.clusters.has(cluster)) {
          vm.reportUnavailable("proxy_http_call", `unknown cluster "${cluster}"`);
          return Result.BadArgument;
        }
        for (const name of REQUIRED) if (headers.get(name) === undefined) return Result.BadArgument;
        if (body.length > 0) headers.replace("content-length", String(body.length));
        vm.nextHttpCallToken += 4;
        const token = vm.nextHttpCallToken;
        const root = vm.activeContext().root;
        let settled = false;
        const settle = (response: HttpCalloutResponse | null) => {
          if (settled) throw new Error(`HTTP callout ${token} was already answered`);
          settled = true;
          vm.runWhenIdle(() => deliverHttpResponse(vm, root, token, response));
        };
        const callout: HttpCallout = {
          kind: "http",
          token,
          cluster,
          headers,
          body,
          trailers,
          timeoutMs: timeoutMs >>> 0,
          respond: (response) => settle(response),
          fail: () => settle(null),
          get settled() {
            return settled;
          },
        };
        vm.process.upstream?.dispatch(callout);
        vm.writeU32(tokenPointer, token);
        return Result.Ok;
      } catch (error) {
        return vm.hostcallError(error);
      }
    },
  };
}
