// A gRPC call (`proxy_grpc_call`) or stream (`proxy_grpc_stream`) the filter opened and that is
// not settled yet. Nothing reaches the filter until the spec answers.

import { bytesToWire, textToWire, wireToBytes, wireToText } from "./bytes";
import { check } from "./errors";
import { Headers } from "./headers";
import * as host from "./imports";

export class GrpcCall {
  constructor(private readonly host: i32, readonly token: u32) {}

  private field(name: string): string {
    const value = host.grpc_field(this.host, this.token, name);
    check();
    return value;
  }

  /** "grpc-call" (unary) or "grpc-stream". Every getter aborts once the call is settled. */
  get kind(): string { return this.field("kind"); }
  get cluster(): string { return this.field("cluster"); }
  /** The service name, e.g. "grpcbin.GRPCBin". */
  get service(): string { return this.field("service"); }
  get method(): string { return this.field("method"); }

  get initialMetadata(): Headers {
    const text = host.grpc_initial_metadata(this.host, this.token);
    check();
    return Headers.decode(text);
  }

  get timeoutMs(): u32 {
    const timeout = host.grpc_timeout_ms(this.host, this.token);
    check();
    return timeout;
  }

  /** Messages sent so far: 1 for a unary call (its request), any number for a stream. */
  get messageCount(): i32 {
    const count = host.grpc_message_count(this.host, this.token);
    check();
    return count;
  }

  private messageWire(index: i32): string {
    const wire = host.grpc_message(this.host, this.token, index);
    check();
    return wire;
  }

  /** Message `index` (default the first: a unary call's request), UTF-8 decoded; aborts when out of range. */
  message(index: i32 = 0): string { return wireToText(this.messageWire(index)); }
  messageBytes(index: i32 = 0): ArrayBuffer { return wireToBytes(this.messageWire(index)); }

  /** Delivers a response message (`proxy_on_grpc_receive`); a unary call is then settled. */
  receive(message: string): void { this.receiveWire(textToWire(message)); }
  receiveBytes(message: ArrayBuffer): void { this.receiveWire(bytesToWire(message)); }

  private receiveWire(wire: string): void {
    host.grpc_receive(this.host, this.token, wire);
    check();
  }

  /** Stream only: `proxy_on_grpc_receive_initial_metadata`. */
  receiveInitialMetadata(metadata: Headers): void {
    host.grpc_receive_metadata(this.host, this.token, false, metadata.encode());
    check();
  }

  /** Stream only: `proxy_on_grpc_receive_trailing_metadata`. */
  receiveTrailingMetadata(metadata: Headers): void {
    host.grpc_receive_metadata(this.host, this.token, true, metadata.encode());
    check();
  }

  /** The remote closes with gRPC `status` (`proxy_on_grpc_close`); `message` is what `proxy_get_status` gives. */
  close(status: u32, message: string = ""): void {
    host.grpc_close(this.host, this.token, status, message);
    check();
  }
}
