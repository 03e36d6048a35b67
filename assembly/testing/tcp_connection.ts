// One TCP connection through a network filter: the spec plays the client and the upstream chunk
// by chunk, and reads the status each callback came to and the bytes that reached each side.

import { bytesToWire, textToWire, wireToBytes, wireToText } from "./bytes";
import { check } from "./errors";
import * as host from "./imports";

const FROM_DOWNSTREAM: i32 = 0;
const FROM_UPSTREAM: i32 = 1;
const UPSTREAM: i32 = 0;
const DOWNSTREAM: i32 = 1;

/** The statuses of the TCP callbacks, as Envoy names them. Compare with `toBe`. */
export namespace TcpStatus {
  export const Continue = "Continue";
  export const StopIteration = "StopIteration";
}

/**
 * A connection from `TestHost.tcp()` or `Plugin.tcp()`. Call `newConnection()` first. Every
 * operation aborts the test with the host's message when the host refuses it.
 */
export class TcpConnection {
  constructor(private readonly handle: i32) {}

  /** Opens the connection (`proxy_on_new_connection`); returns the TcpStatus. */
  newConnection(): string {
    const status = host.tcp_new_connection(this.handle);
    check();
    return status;
  }

  private data(direction: i32, wire: string, endOfStream: bool): string {
    const status = host.tcp_data(this.handle, direction, wire, endOfStream);
    check();
    return status;
  }

  /** Bytes from the client (`proxy_on_downstream_data`), UTF-8 encoded; returns the TcpStatus. */
  downstreamData(data: string, endOfStream: bool = false): string { return this.data(FROM_DOWNSTREAM, textToWire(data), endOfStream); }
  downstreamDataBytes(data: ArrayBuffer, endOfStream: bool = false): string { return this.data(FROM_DOWNSTREAM, bytesToWire(data), endOfStream); }
  /** Bytes from the upstream (`proxy_on_upstream_data`), UTF-8 encoded; returns the TcpStatus. */
  upstreamData(data: string, endOfStream: bool = false): string { return this.data(FROM_UPSTREAM, textToWire(data), endOfStream); }
  upstreamDataBytes(data: ArrayBuffer, endOfStream: bool = false): string { return this.data(FROM_UPSTREAM, bytesToWire(data), endOfStream); }

  /**
   * The downstream connection closes: by the client (`remote`, default) or by the proxy: the
   * close callback, then done, log, delete. A no-op once the connection is finished.
   */
  close(remote: bool = true): void {
    host.tcp_close(this.handle, remote);
    check();
  }

  private received(side: i32): string {
    const wire = host.tcp_received(this.handle, side);
    check();
    return wire;
  }

  /** What the upstream received so far, UTF-8 decoded. */
  get upstream(): string { return wireToText(this.received(UPSTREAM)); }
  get upstreamBytes(): ArrayBuffer { return wireToBytes(this.received(UPSTREAM)); }
  /** What the client received so far, UTF-8 decoded. */
  get downstream(): string { return wireToText(this.received(DOWNSTREAM)); }
  get downstreamBytes(): ArrayBuffer { return wireToBytes(this.received(DOWNSTREAM)); }

  /** True once the host closed the connection (the filter's close, or fail closed). */
  get closedByHost(): bool {
    const closed = host.tcp_closed_by_host(this.handle);
    check();
    return closed != 0;
  }

  /** True once the downstream connection closed (either side). */
  get finished(): bool {
    const finished = host.tcp_finished(this.handle);
    check();
    return finished != 0;
  }

  /** The connection's context id; 0 before `newConnection()`. */
  get contextId(): u32 {
    const id = host.tcp_context_id(this.handle);
    check();
    return id;
  }
}
