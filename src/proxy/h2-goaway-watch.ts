import { Duplex } from "node:stream";
import type { Socket } from "node:net";

/** HTTP/2 frame type GOAWAY (RFC 9113 §6.8). */
const GOAWAY = 7;
/** How long Envoy waits for the peer before it closes a connection it is done with (delayed_close_timeout). */
const DELAYED_CLOSE_MS = 1_000;

/**
 * Reads the frame headers of the bytes an HTTP/2 server writes and reports a GOAWAY that carries
 * an error code. Payloads are skipped without copying; only GOAWAY's first 8 bytes are kept.
 */
export class OutgoingFrameScanner {
  private readonly header = Buffer.alloc(9);
  private headerFill = 0;
  private payloadLeft = 0;
  private goaway: Buffer | null = null;
  private goawayFill = 0;

  /** Feeds written bytes; returns the error code of a GOAWAY completed in them (0 is NO_ERROR). */
  scan(chunk: Uint8Array): number | undefined {
    let found: number | undefined;
    let at = 0;
    while (at < chunk.length) {
      if (this.payloadLeft > 0) {
        const take = Math.min(this.payloadLeft, chunk.length - at);
        if (this.goaway !== null && this.goawayFill < 8) {
          const copy = Math.min(take, 8 - this.goawayFill);
          this.goaway.set(chunk.subarray(at, at + copy), this.goawayFill);
          this.goawayFill += copy;
          if (this.goawayFill === 8) found = this.goaway.readUInt32BE(4);
        }
        this.payloadLeft -= take;
        at += take;
        continue;
      }
      const take = Math.min(9 - this.headerFill, chunk.length - at);
      this.header.set(chunk.subarray(at, at + take), this.headerFill);
      this.headerFill += take;
      at += take;
      if (this.headerFill < 9) break;
      this.headerFill = 0;
      this.payloadLeft = this.header.readUIntBE(0, 3);
      this.goaway = this.header[3] === GOAWAY ? Buffer.alloc(8) : null;
      this.goawayFill = 0;
    }
    return found;
  }
}

/**
 * The connection under an h2c session, passed through with a watch on what the server writes.
 * Node's HTTP/2 server answers a connection error (a frame that breaks the protocol) with GOAWAY
 * but tells nobody and leaves the TCP connection open. Envoy closes it once the GOAWAY is out
 * (envoy source/common/http/conn_manager_impl.cc `handleCodecError`: "HTTP/2 codec has already
 * sent GOAWAY", then `doConnectionClose(FlushWriteAndDelay)`), so a GOAWAY with an error code
 * ends the connection here too: the write side closes after the GOAWAY is flushed, and the
 * socket after Envoy's delayed close timeout (1 s) if the peer has not closed it by then.
 */
export class H2ConnectionWatch extends Duplex {
  private readonly scanner = new OutgoingFrameScanner();
  private closing = false;

  constructor(
    /** The accepted TCP connection (addresses, errors and the real close live there). */
    readonly socket: Socket,
    private readonly onProtocolError: (errorCode: number) => void,
  ) {
    super({ allowHalfOpen: true });
    socket.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.on("end", () => this.push(null));
    socket.on("close", () => this.destroy());
    socket.on("error", (error) => this.destroy(error));
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const code = this.closing ? undefined : this.scanner.scan(chunk);
    this.socket.write(chunk, (error) => {
      callback(error);
      if (code !== undefined && code !== 0) this.closeAfterGoaway(code);
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A failed write reaches the session through this stream first; the socket must see the same
    // error (a peer's reset is its doing, and is counted so), not a bare destroy.
    this.socket.destroy(error ?? undefined);
    callback(error);
  }

  private closeAfterGoaway(code: number): void {
    if (this.closing) return;
    this.closing = true;
    this.onProtocolError(code);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), DELAYED_CLOSE_MS).unref();
  }
}
