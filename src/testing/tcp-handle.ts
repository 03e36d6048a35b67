/**
 * A test's handle on one TCP connection.
 */
import type { TcpStatus, TcpStream, TcpStreamSink } from "../host";
import { bytesToString, concatBytes, EMPTY_BYTES, toBytes, type BytesLike } from "../host/bytes";

export class TcpConnectionHandle {
  /** Bytes written to the upstream. */
  upstreamBytes: Uint8Array = EMPTY_BYTES;
  /** Bytes written back to the client. */
  downstreamBytes: Uint8Array = EMPTY_BYTES;
  /** True once the host closed the connection (plugin close or fail closed). */
  closedByHost = false;
  readonly stream: TcpStream;

  constructor(create: (sink: TcpStreamSink) => TcpStream, private readonly afterEach: () => void) {
    this.stream = create({
      upstreamData: (d) => {
        this.upstreamBytes = concatBytes(this.upstreamBytes, d);
      },
      downstreamData: (d) => {
        this.downstreamBytes = concatBytes(this.downstreamBytes, d);
      },
      close: () => {
        this.closedByHost = true;
      },
    });
  }

  get upstream(): string {
    return bytesToString(this.upstreamBytes);
  }

  get downstream(): string {
    return bytesToString(this.downstreamBytes);
  }

  newConnection(): TcpStatus {
    const status = this.stream.newConnection();
    this.afterEach();
    return status;
  }

  downstreamData(data: BytesLike, options: { endOfStream?: boolean } = {}): TcpStatus {
    const status = this.stream.downstreamData(toBytes(data), options.endOfStream ?? false);
    this.afterEach();
    return status;
  }

  upstreamData(data: BytesLike, options: { endOfStream?: boolean } = {}): TcpStatus {
    const status = this.stream.upstreamData(toBytes(data), options.endOfStream ?? false);
    this.afterEach();
    return status;
  }

  /**
   * The client closed (remote) or the proxy closed (local) the downstream connection: the close
   * callback, then done, log, delete. A no-op once the connection is finished.
   */
  close(peer: "local" | "remote" = "remote"): void {
    this.stream.close(peer);
    this.afterEach();
  }

  /** True once the downstream connection closed (either side): no callback reaches the plugin afterwards. */
  get finished(): boolean {
    return this.stream.isFinished;
  }

  /** The connection's context id; 0 before `newConnection()`. Kept after the context is deleted. */
  get contextId(): number {
    return this.stream.context?.id ?? 0;
  }
}
