// gRPC callouts from AssemblyScript: examples/grpc_auth_random calls grpcbin.GRPCBin/RandomError
// and grants or forbids the request by the status it gets back.
import { TestHost, Headers, Action, GrpcCall, HttpStream } from "proxy-wasm-as/assembly/testing";

function grpcRequest(): Headers {
  return Headers.of([
    [":method", "POST"], [":path", "/hello.HelloService/SayHello"], [":authority", "localhost:10000"],
    ["content-type", "application/grpc"], ["te", "trailers"],
  ]);
}

function grpcHost(): TestHost {
  return new TestHost("grpc_auth_random").cluster("grpcbin").strict().start();
}

let settled: GrpcCall = new GrpcCall(0, 0);

describe("grpc_auth_random: the request waits for grpcbin", () => {
  it("calls grpcbin.GRPCBin/RandomError (1 s, no metadata, empty message) and pauses", () => {
    const host = grpcHost();
    const stream = host.http();
    expect(stream.requestHeaders(grpcRequest())).toBe(Action.StopAllIterationAndWatermark);
    expect(stream.upstream.reached).toBe(false);
    const calls = host.pendingGrpcCalls();
    expect(calls.length).toBe(1);
    expect(calls[0].kind).toBe("grpc-call");
    expect(calls[0].cluster).toBe("grpcbin");
    expect(calls[0].service).toBe("grpcbin.GRPCBin");
    expect(calls[0].method).toBe("RandomError");
    expect(calls[0].initialMetadata.length).toBe(0);
    expect(calls[0].timeoutMs).toBe(1000);
    expect(calls[0].messageCount).toBe(1);
    expect(calls[0].message()).toBe("");
    expect(calls[0].messageBytes(0).byteLength).toBe(0);
  });

  it("a response message (status OK) grants access", () => {
    const host = grpcHost();
    const stream = host.http();
    stream.requestHeaders(grpcRequest());
    host.pendingGrpcCalls()[0].receive("");
    const info = host.logs.messages("info");
    expect(info.length).toBe(1);
    expect(info[0]).toBe("Access granted.");
    expect(stream.localResponse.sent).toBe(false);
    expect(stream.upstream.header(":path")).toBe("/hello.HelloService/SayHello");
    expect(host.pendingGrpcCalls().length).toBe(0);
    stream.responseHeaders(Headers.of([[":status", "200"], ["content-type", "application/grpc"]]));
    expect(stream.downstream.headers.toString()).toBe(":status: 200\ncontent-type: application/grpc\npowered-by: proxy-wasm");
  });

  it("an even error status (4) grants, an odd one (5) forbids with ABORTED", () => {
    const granted = grpcHost();
    const grantedStream = granted.http();
    grantedStream.requestHeaders(grpcRequest());
    granted.pendingGrpcCalls()[0].close(4, "deadline");
    expect(granted.logs.contains("Access granted.", "info")).toBe(true);
    expect(grantedStream.upstream.reached).toBe(true);

    const forbidden = grpcHost();
    const stream = forbidden.http();
    stream.requestHeaders(grpcRequest());
    forbidden.pendingGrpcCalls()[0].close(5, "not found");
    expect(forbidden.logs.contains("Access forbidden.", "info")).toBe(true);
    expect(stream.localResponse.status).toBe(200);
    expect(stream.localResponse.body).toBe("Aborted by Proxy-Wasm!");
    expect(stream.localResponse.grpcStatus).toBe(10);
    expect(stream.localResponse.headers.toString()).toBe("powered-by: proxy-wasm");
    expect(stream.upstream.reached).toBe(false);
    expect(stream.downstream.headers.toString()).toBe(":status: 200\npowered-by: proxy-wasm\ncontent-type: application/grpc\ngrpc-status: 10\ngrpc-message: Aborted by Proxy-Wasm!");
    expect(stream.downstream.ended).toBe(true);
    expect(stream.downstream.body).toBe("");
  });

  it("stream-only answers on a unary call, and answering a settled call, abort with the host's message", () => {
    const host = grpcHost();
    host.http().requestHeaders(grpcRequest());
    settled = host.pendingGrpcCalls()[0];
    settled.close(4);
    expect(() => { settled.close(4); }).toThrow();
    expect(() => { settled.receive("x"); }).toThrow();
    expect(() => { settled.receiveInitialMetadata(new Headers()); }).toThrow();
  });

  it("without the grpcbin cluster the call is refused and the request aborted", () => {
    const host = new TestHost("grpc_auth_random").strict().start();
    const stream: HttpStream = host.http();
    stream.requestHeaders(grpcRequest());
    const errors = host.logs.messages("error");
    expect(errors.length).toBe(1);
    expect(errors[0]).toBe("gRPC call to grpcbin failed: 4");
    expect(stream.localResponse.grpcStatus).toBe(10);
    expect(host.pendingGrpcCalls().length).toBe(0);
  });
});
