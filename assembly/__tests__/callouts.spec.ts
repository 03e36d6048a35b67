import {
  Context, HttpCallResponse, WasmResult, lastResult, httpCall, grpcCall, grpcStream, grpcCancel, grpcStatusMessage, grpcMessage,
  Header, pendingCalloutCount, liveContextCount, sendLocalResponse,
} from "../index";
import { proxy_on_http_call_response, proxy_on_grpc_receive } from "../exports";
import { Headers, HttpCallout, GrpcCall } from "../testing";
import {
  aRequest, clearHostcalls, duringRequestHeaders, duringTick, hostcallCount, onGrpcEvent, onHttpCallResponse, specHost,
  specRoot, specStream,
} from "./spec-filter";

export * from "../exports";

// What the contexts saw, for the assertions.
let seen = "";
let token: u32 = 0;
let caller: u32 = 0;

/** Records an answer; a stream answers its client with a local 403 after a good one. */
function recordResponse(owner: Context, token: u32, response: HttpCallResponse): void {
  if (owner === specRoot) {
    seen += "root:" + token.toString() + ";";
    return;
  }
  if (response.failed) {
    seen += "failed:" + response.failureMessage() + ":" + response.failureCode().toString() + ";";
    return;
  }
  seen += "stream" + owner.id.toString() + ":" + response.status().toString() + ":" + response.bodyText() + ":"
    + response.headers.get("x-auth")! + ";";
  sendLocalResponse(403, "denied", [Header.of("x-why", "auth")], "auth_denied");
}

function recordGrpc(owner: Context, token: u32, event: string, value: u32): void {
  if (event == "metadata") seen += "md:" + value.toString() + ";";
  else if (event == "message") seen += "msg" + owner.id.toString() + ":" + grpcMessage.text() + ";";
  else seen += "close:" + value.toString() + ":" + grpcStatusMessage() + ";";
}

/** The host's pending callout with `token`. */
function callout(token: u32): HttpCallout {
  const pending = specHost().pendingHttpCallouts();
  for (let i = 0; i < pending.length; i++) if (pending[i].token == token) return pending[i];
  throw new Error("no pending callout " + token.toString());
}

/** The host's pending gRPC call with `token`. */
function grpc(token: u32): GrpcCall {
  const pending = specHost().pendingGrpcCalls();
  for (let i = 0; i < pending.length; i++) if (pending[i].token == token) return pending[i];
  throw new Error("no pending gRPC call " + token.toString());
}

/** A stream whose request headers callback sends the auth call, as a filter would. */
function callingStream(): void {
  duringRequestHeaders(aRequest(), () => {
    caller = specStream!.id;
    token = httpCall(specStream!, "cluster", [Header.of(":method", "GET"), Header.of(":path", "/auth"), Header.of(":authority", "auth")],
      String.UTF8.encode("ping"), null, 500);
  });
}

describe("HTTP callouts", () => {
  beforeEach(() => {
    onHttpCallResponse(recordResponse);
    seen = "";
  });

  it("sends the call and remembers the caller", () => {
    const before = pendingCalloutCount();
    callingStream();
    expect(token).toBeGreaterThan(0);
    const sent = callout(token);
    expect(sent.cluster).toBe("cluster");
    // Envoy adds the body's content-length (wasm context.cc httpCall).
    expect(sent.headers.toString()).toBe(":method: GET\n:path: /auth\n:authority: auth\ncontent-length: 4");
    expect(sent.body).toBe("ping");
    expect(sent.timeoutMs).toBe(500);
    expect(pendingCalloutCount()).toBe(before + 1);
  });

  it("routes the answer to the calling stream with that stream effective", () => {
    callingStream();
    const stream = specStream!;
    clearHostcalls();
    const before = pendingCalloutCount();
    callout(token).respond(200, "pong", Headers.of([["x-auth", "ok"]]));
    expect(seen).toBe("stream" + caller.toString() + ":200:pong:ok;");
    // The local reply reached the calling stream: the SDK made it the effective context.
    expect(hostcallCount("proxy_set_effective_context")).toBe(1);
    expect(pendingCalloutCount()).toBe(before - 1);
    expect(stream.id).toBe(caller);
  });

  it("drops an answer for a token it does not know (already answered)", () => {
    callingStream();
    const answered = token;
    callout(token).respond(200, "first", Headers.of([["x-auth", "ok"]]));
    seen = "";
    // Envoy answers a token once; a second answer is a host bug the SDK must shrug off.
    duringTick(() => {
      clearHostcalls();
      proxy_on_http_call_response(specRoot!.id, token, 0, 0, 0);
    });
    expect(token).toBe(answered);
    expect(seen).toBe("");
    expect(hostcallCount("proxy_set_effective_context")).toBe(0);
  });

  it("reports a reset call as failed with the host's status", () => {
    callingStream();
    callout(token).fail();
    expect(seen).toBe("failed:reset:" + (<i32>WasmResult.BrokenConnection).toString() + ";");
  });

  it("drops the answer cleanly when the caller was deleted first", () => {
    const live = liveContextCount();
    const callouts = pendingCalloutCount();
    const stream = duringRequestHeaders(aRequest(), () => {
      token = httpCall(specStream!, "cluster", [Header.of(":method", "GET"), Header.of(":path", "/"), Header.of(":authority", "a")], null, null, 100);
    });
    expect(liveContextCount()).toBe(live + 1);
    expect(pendingCalloutCount()).toBe(callouts + 1);
    stream.complete();
    expect(pendingCalloutCount()).toBe(callouts);
    expect(liveContextCount()).toBe(live);
    // Callouts belong to the root context in Envoy (wasm exports.cc http_call), so the call stays
    // pending and its answer still arrives: the SDK drops it without touching the deleted stream.
    seen = "";
    clearHostcalls();
    callout(token).respond(200, "late", Headers.of([["x-auth", "ok"]]));
    expect(seen).toBe("");
    expect(hostcallCount("proxy_set_effective_context")).toBe(0);
    expect(hostcallCount("proxy_send_local_response")).toBe(0);
  });

  it("delivers a root's own call without changing the effective context", () => {
    duringTick(() => {
      token = httpCall(specRoot!, "cluster", [Header.of(":method", "GET"), Header.of(":path", "/"), Header.of(":authority", "a")], null, [Header.of("t", "1")], 0);
    });
    expect(token).toBeGreaterThan(0);
    clearHostcalls();
    callout(token).respond(204);
    expect(seen).toBe("root:" + token.toString() + ";");
    expect(hostcallCount("proxy_set_effective_context")).toBe(0);
  });

  it("returns token 0 and the host status when the host refuses the call", () => {
    const before = pendingCalloutCount();
    duringTick(() => {
      token = httpCall(specRoot!, "no-such-cluster", [Header.of(":method", "GET"), Header.of(":path", "/"), Header.of(":authority", "a")], null, null, 0);
      expect(lastResult()).toBe(WasmResult.BadArgument);
    });
    expect(token).toBe(0);
    expect(pendingCalloutCount()).toBe(before);
  });
});

describe("gRPC callouts", () => {
  beforeEach(() => {
    onGrpcEvent(recordGrpc);
    seen = "";
  });

  it("routes a unary answer to the calling stream, then forgets the token", () => {
    const before = pendingCalloutCount();
    duringRequestHeaders(aRequest(), () => {
      caller = specStream!.id;
      token = grpcCall(specStream!, "cluster", "pkg.Svc", "Get", null, String.UTF8.encode("req"), 1000);
    });
    const calls = [grpc(token)];
    expect(calls[0].cluster).toBe("cluster");
    expect(calls[0].service).toBe("pkg.Svc");
    expect(calls[0].method).toBe("Get");
    expect(calls[0].timeoutMs).toBe(1000);
    expect(calls[0].message()).toBe("req");
    clearHostcalls();
    calls[0].receive("answer");
    expect(seen).toBe("msg" + caller.toString() + ":answer;");
    expect(hostcallCount("proxy_set_effective_context")).toBe(1);
    expect(pendingCalloutCount()).toBe(before);
  });

  it("keeps a stream registered until it closes", () => {
    const before = pendingCalloutCount();
    duringRequestHeaders(aRequest(), () => {
      caller = specStream!.id;
      token = grpcStream(specStream!, "cluster", "pkg.Svc", "Watch", [Header.of("k", "v")]);
    });
    const call = grpc(token);
    expect(call.initialMetadata.toString()).toBe("k: v");
    call.receiveInitialMetadata(Headers.of([["a", "1"], ["b", "2"]]));
    call.receive("one");
    expect(pendingCalloutCount()).toBe(before + 1);
    call.close(14, "upstream gone");
    expect(seen).toBe("md:2;msg" + caller.toString() + ":one;close:14:upstream gone;");
    expect(pendingCalloutCount()).toBe(before);
  });

  it("delivers nothing after the filter cancels", () => {
    const before = pendingCalloutCount();
    duringRequestHeaders(aRequest(), () => {
      token = grpcStream(specStream!, "cluster", "pkg.Svc", "Watch", null);
      expect(grpcCancel(token)).toBe(WasmResult.Ok);
    });
    expect(pendingCalloutCount()).toBe(before);
    // The host dropped the cancelled stream, as Envoy resets it.
    const calls = specHost().pendingGrpcCalls();
    for (let i = 0; i < calls.length; i++) expect(calls[i].token).not.toBe(token);
    // A message for it anyway reaches no context.
    duringTick(() => {
      proxy_on_grpc_receive(specRoot!.id, token, 3);
    });
    expect(seen).toBe("");
  });
});
