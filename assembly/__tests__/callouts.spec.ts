import {
  RootContext, HttpContext, Context, HttpCallResponse, FilterHeadersStatus, MapType, BufferType, GrpcStatus,
  WasmResult, lastResult, registerRoot, httpCall, grpcCall, grpcStream, grpcCancel, grpcStatusMessage, grpcMessage,
  Header, pendingCalloutCount, liveContextCount, sendLocalResponse, continueRequest,
} from "../index";
import {
  proxy_on_context_create, proxy_on_request_headers, proxy_on_http_call_response, proxy_on_delete,
  proxy_on_done, proxy_on_log, proxy_on_grpc_receive, proxy_on_grpc_close, proxy_on_grpc_receive_initial_metadata,
} from "../exports";
import * as mock from "./host";

export { malloc } from "../exports";

// What the filters saw, for the assertions.
let seen = "";

let theRoot: RootContext | null = null;
let lastStream: HttpContext | null = null;

class CallingRoot extends RootContext {
  constructor(id: u32) {
    super(id);
    theRoot = this;
  }
  createHttpContext(contextId: u32): HttpContext | null {
    const stream = new CallingStream(contextId, this);
    lastStream = stream;
    return stream;
  }
  onHttpCallResponse(token: u32, response: HttpCallResponse): void {
    seen += "root:" + token.toString() + ";";
  }
  onGrpcReceive(token: u32, messageSize: u32): void {
    seen += "root-grpc:" + grpcMessage.text() + ";";
  }
}

class CallingStream extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const token = httpCall(this, "cluster", [Header.of(":method", "GET"), Header.of(":path", "/auth"), Header.of(":authority", "auth")],
      String.UTF8.encode("ping"), null, 500);
    seen += "token:" + token.toString() + ";";
    return FilterHeadersStatus.StopIteration;
  }
  onHttpCallResponse(token: u32, response: HttpCallResponse): void {
    if (response.failed) {
      seen += "failed:" + response.failureMessage() + ":" + response.failureCode().toString() + ";";
      return;
    }
    seen += "stream" + this.id.toString() + ":" + response.status().toString() + ":" + response.bodyText() + ":"
      + response.headers.get("x-auth")! + ";";
    sendLocalResponse(403, "denied", [Header.of("x-why", "auth")], "auth_denied");
  }
  onGrpcReceive(token: u32, messageSize: u32): void {
    seen += "msg" + this.id.toString() + ":" + grpcMessage.text() + ";";
  }
  onGrpcReceiveInitialMetadata(token: u32, headerCount: u32): void {
    seen += "md:" + headerCount.toString() + ";";
  }
  onGrpcClose(token: u32, status: GrpcStatus): void {
    seen += "close:" + (<i32>status).toString() + ":" + grpcStatusMessage() + ";";
  }
}

registerRoot("", (contextId: u32): RootContext => new CallingRoot(contextId));

function answer(token: u32, status: string, body: string): void {
  mock.reset();
  mock.setHeader(MapType.HttpCallResponseHeaders, ":status", status);
  mock.setHeader(MapType.HttpCallResponseHeaders, "x-auth", "ok");
  mock.setBuffer(BufferType.HttpCallResponseBody, body);
  proxy_on_http_call_response(1, token, 2, body.length, 0);
}

describe("HTTP callouts", () => {
  beforeAll(() => {
    proxy_on_context_create(1, 0);
  });
  beforeEach(() => {
    mock.reset();
    seen = "";
  });

  it("sends the call and remembers the caller", () => {
    proxy_on_context_create(2, 1);
    expect(proxy_on_request_headers(2, 3, 0)).toBe(FilterHeadersStatus.StopIteration);
    expect(seen).toBe("token:4;");
    expect(mock.callsText()).toBe("http:4:cluster::method=GET,:path=/auth,:authority=auth:ping:0:500");
    expect(pendingCalloutCount()).toBe(1);
  });

  it("routes the answer to the calling stream with that stream effective", () => {
    answer(4, "200", "pong");
    expect(mock.effectiveText()).toBe("2");
    expect(seen).toBe("stream2:200:pong:ok;");
    expect(mock.localResponse()).toBe("403|denied|x-why=auth|auth_denied|-1");
    expect(pendingCalloutCount()).toBe(0);
  });

  it("drops a second answer for the same token", () => {
    answer(4, "200", "again");
    expect(seen).toBe("");
    expect(mock.effectiveText()).toBe("");
  });

  it("reports a reset call as failed with the host's status", () => {
    proxy_on_request_headers(2, 3, 0);
    expect(seen).toBe("token:8;");
    mock.reset();
    mock.setStatus(WasmResult.BrokenConnection, "reset");
    proxy_on_http_call_response(1, 8, 0, 0, 0);
    expect(seen).toBe("token:8;failed:reset:11;");
  });

  it("drops the answer cleanly when the caller was deleted first", () => {
    proxy_on_request_headers(2, 3, 0);
    expect(pendingCalloutCount()).toBe(1);
    proxy_on_log(2);
    expect(proxy_on_done(2)).toBe(1);
    proxy_on_delete(2);
    expect(pendingCalloutCount()).toBe(0);
    expect(liveContextCount()).toBe(1);
    seen = "";
    answer(12, "200", "late");
    expect(seen).toBe("");
    expect(mock.effectiveText()).toBe("");
    expect(mock.localResponse()).toBe("");
  });

  it("delivers a root's own call without changing the effective context", () => {
    const root = changetype<RootContext>(theRoot);
    const token = httpCall(root, "cluster", [Header.of(":path", "/")], null, [Header.of("t", "1")], 0);
    expect(token).toBe(16);
    answer(token, "204", "");
    expect(seen).toBe("root:16;");
    expect(mock.effectiveText()).toBe("");
  });

  it("returns token 0 and the host status when the host refuses the call", () => {
    const token = httpCall(changetype<RootContext>(theRoot), "no-such-cluster", [], null, null, 0);
    expect(token).toBe(0);
    expect(lastResult()).toBe(WasmResult.BadArgument);
    expect(pendingCalloutCount()).toBe(0);
  });
});

describe("gRPC callouts", () => {
  beforeEach(() => {
    mock.reset();
    seen = "";
  });

  it("routes a unary answer to the calling stream, then forgets the token", () => {
    proxy_on_context_create(3, 1);
    const caller = changetype<Context>(lastStream);
    const token = grpcCall(caller, "cluster", "pkg.Svc", "Get", null, String.UTF8.encode("req"), 1000);
    expect(mock.callsText()).toBe("grpc:" + token.toString() + ":cluster:pkg.Svc:Get:3:1000");
    mock.setBuffer(BufferType.GrpcReceiveBuffer, "answer");
    proxy_on_grpc_receive(1, token, 6);
    expect(seen).toBe("msg3:answer;");
    expect(mock.effectiveText()).toBe("3");
    expect(pendingCalloutCount()).toBe(0);
  });

  it("keeps a stream registered until it closes", () => {
    const caller = changetype<Context>(lastStream);
    const token = grpcStream(caller, "cluster", "pkg.Svc", "Watch", [Header.of("k", "v")]);
    proxy_on_grpc_receive_initial_metadata(1, token, 2);
    mock.setBuffer(BufferType.GrpcReceiveBuffer, "one");
    proxy_on_grpc_receive(1, token, 3);
    expect(pendingCalloutCount()).toBe(1);
    mock.setStatus(14, "upstream gone");
    proxy_on_grpc_close(1, token, 14);
    expect(seen).toBe("md:2;msg3:one;close:14:upstream gone;");
    expect(pendingCalloutCount()).toBe(0);
  });

  it("delivers nothing after the filter cancels", () => {
    const caller = changetype<Context>(lastStream);
    const token = grpcStream(caller, "cluster", "pkg.Svc", "Watch", null);
    expect(grpcCancel(token)).toBe(WasmResult.Ok);
    expect(pendingCalloutCount()).toBe(0);
    proxy_on_grpc_receive(1, token, 3);
    expect(seen).toBe("");
    expect(mock.callsText()).toBe("stream:" + token.toString() + ":Watch;cancel:" + token.toString());
  });
});
