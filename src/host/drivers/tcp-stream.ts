/**
 * Plays one TCP connection through a plugin's network-filter callbacks as Envoy does (reference
 * §4.6): data accumulates while the plugin stops iteration, an upstream end of stream reports an
 * UNKNOWN upstream close, and the downstream close is followed by done, log, delete.
 */
import { BodyBuffer } from "../body-buffer";
import { BufferType, PeerType, StreamType } from "../constants";
import type { Context, PendingActionHandler } from "../context";
import type { Plugin } from "../plugin";
import { newStreamInfo } from "../stream-info";
import type { FailurePolicy } from "../failure-policy";

export interface TcpStreamSink {
  /** Bytes to write to the upstream connection. */
  upstreamData(data: Uint8Array, endOfStream: boolean): void;
  /** Bytes to write back to the downstream (client) connection. */
  downstreamData(data: Uint8Array, endOfStream: boolean): void;
  /** Close the connection (flushing writes). */
  close(): void;
}

export type TcpStatus = "Continue" | "StopIteration";

export class TcpStream implements PendingActionHandler {
  context: Context | null = null;
  closed = false;
  private readonly downstreamHeld = new BodyBuffer();
  private readonly upstreamHeld = new BodyBuffer();
  private downstreamEnded = false;
  private upstreamEnded = false;
  private passthrough = false;
  private finished = false;

  constructor(readonly plugin: Plugin, readonly sink: TcpStreamSink, private readonly failurePolicy: FailurePolicy = "fail_closed") {}

  private get vm() {
    return this.plugin.vm;
  }

  private failed(): boolean {
    if (!this.vm.failed) return this.passthrough;
    if (!this.passthrough) {
      this.passthrough = true;
      if (this.failurePolicy !== "fail_open") this.closeConnection();
    }
    return true;
  }

  /** A downstream connection was accepted: context creation and `proxy_on_new_connection`. */
  newConnection(): TcpStatus {
    if (this.failed()) return this.closed ? "StopIteration" : "Continue";
    const context = this.plugin.createStreamContext("tcp");
    context.driver = this;
    context.streamInfo = newStreamInfo(Number(this.vm.process.scheduler.nowNanos() / 1_000_000n), context.id);
    this.context = context;
    const result = this.vm.invoke("proxy_on_new_connection", this.vm.callback("proxy_on_new_connection"), context, context.id);
    if (this.failed()) return this.closed ? "StopIteration" : "Continue";
    this.applyPendingActions();
    return result === 0 || result === undefined ? "Continue" : "StopIteration";
  }

  /** Bytes from the client. */
  downstreamData(data: Uint8Array, endOfStream: boolean): TcpStatus {
    return this.onData(true, data, endOfStream);
  }

  /** Bytes from the upstream. An end of stream also reports `proxy_on_upstream_connection_close(UNKNOWN)`. */
  upstreamData(data: Uint8Array, endOfStream: boolean): TcpStatus {
    const status = this.onData(false, data, endOfStream);
    if (endOfStream && !this.passthrough && this.context !== null) {
      this.vm.invoke("proxy_on_upstream_connection_close", this.vm.callback("proxy_on_upstream_connection_close"), this.context, this.context.id, PeerType.Unknown);
      this.failed();
    }
    return status;
  }

  private onData(fromDownstream: boolean, data: Uint8Array, endOfStream: boolean): TcpStatus {
    if (this.closed) return "StopIteration";
    const held = fromDownstream ? this.downstreamHeld : this.upstreamHeld;
    held.append(data.slice());
    if (fromDownstream) this.downstreamEnded = endOfStream;
    else this.upstreamEnded = endOfStream;
    if (this.failed() || this.context === null) {
      if (!this.closed) this.flush(fromDownstream);
      return this.closed ? "StopIteration" : "Continue";
    }
    const context = this.context;
    const type = fromDownstream ? BufferType.DownstreamData : BufferType.UpstreamData;
    context.buffers[type] = held;
    const name = fromDownstream ? "proxy_on_downstream_data" : "proxy_on_upstream_data";
    const result = this.vm.invoke(name, this.vm.callback(name), context, context.id, held.length, endOfStream ? 1 : 0);
    if (this.failed()) {
      if (!this.closed) this.flush(fromDownstream);
      return this.closed ? "StopIteration" : "Continue";
    }
    const status: TcpStatus = result === 0 || result === undefined ? "Continue" : "StopIteration";
    if (status === "Continue") this.flush(fromDownstream);
    this.applyPendingActions();
    return status;
  }

  private flush(fromDownstream: boolean): void {
    const held = fromDownstream ? this.downstreamHeld : this.upstreamHeld;
    const data = held.bytes;
    held.clear();
    if (this.context !== null) this.context.buffers[fromDownstream ? BufferType.DownstreamData : BufferType.UpstreamData] = null;
    if (fromDownstream) this.sink.upstreamData(data, this.downstreamEnded);
    else this.sink.downstreamData(data, this.upstreamEnded);
  }

  /** The downstream connection closed: close callback, then done, log, delete (TCP order). */
  close(peer: "local" | "remote" = "remote"): void {
    if (this.finished) return;
    this.finished = true;
    const context = this.context;
    if (context === null) return;
    const vm = this.vm;
    vm.invoke("proxy_on_downstream_connection_close", vm.callback("proxy_on_downstream_connection_close"), context, context.id, peer === "local" ? PeerType.Local : PeerType.Remote);
    vm.invoke("proxy_on_done", vm.callback("proxy_on_done"), context, context.id);
    vm.invoke("proxy_on_log", vm.callback("proxy_on_log"), context, context.id);
    vm.deleteContext(context);
    context.driver = null;
  }

  private closeConnection(): void {
    if (this.closed) return;
    this.closed = true;
    this.sink.close();
  }

  applyPendingActions(): void {
    const context = this.context;
    if (context === null) return;
    if (context.pendingClose !== 0) {
      context.pendingClose = 0;
      context.pendingContinue = 0;
      this.closeConnection();
      return;
    }
    if (context.pendingContinue & (1 << StreamType.Downstream)) {
      context.pendingContinue = 0;
      this.flush(true);
    }
    context.pendingContinue = 0;
  }
}
