/**
 * Plays one TCP connection through a plugin's network-filter callbacks as Envoy does (reference
 * §4.6, Envoy `context.cc` `onNewConnection`/`onData`/`onWrite`/`onEvent`/`onCloseTCP`):
 *
 * - data accumulates while the plugin stops iteration;
 * - an upstream end of stream reports `proxy_on_upstream_connection_close(UNKNOWN)` right after
 *   the data callback, whatever that callback returned, and before the data moves on (Envoy's
 *   `Context::onWrite` makes both calls before the next write filter runs);
 * - the downstream connection closing (the client: REMOTE; the proxy, including a
 *   `proxy_close_stream` or a fail-closed VM failure: LOCAL) reports
 *   `proxy_on_downstream_connection_close` followed immediately by done, log, delete. Envoy's upstream
 *   close only finishes the context when the downstream already closed, and by then it is finished,
 *   so an upstream close never ends the context.
 *
 * Once the downstream connection is closed no further callback reaches the context. (Envoy, given an
 * upstream end of stream in the very callback that closed the connection, still reports the upstream
 * close to the deleted context; this host does not.)
 */
import { BodyBuffer } from "../body-buffer";
import { BufferType, PeerType, StreamType } from "../constants";
import type { Context, PendingActionHandler } from "../context";
import type { Plugin } from "../plugin";
import type { PropertyTree } from "../plugin-info";
import { newStreamInfo } from "../stream-info";
import { wallClockMs } from "../scheduler";
import type { FailurePolicy } from "../failure-policy";

export interface TcpStreamSink {
  /** Bytes to write to the upstream connection. */
  upstreamData(data: Uint8Array, endOfStream: boolean): void;
  /** Bytes to write back to the downstream (client) connection. */
  downstreamData(data: Uint8Array, endOfStream: boolean): void;
  /** Close the connection (flushing writes). Called once, before the close callbacks run. */
  close(): void;
}

export interface TcpStreamOptions {
  /** What a VM failure does to this connection: close it (default) or pass data through. */
  readonly failurePolicy?: FailurePolicy;
  /** Property overrides for this connection only (e.g. `{ source: { address: "10.0.0.1:5000" } }`). */
  readonly properties?: PropertyTree;
}

export type TcpStatus = "Continue" | "StopIteration";

/** Which side closed the downstream connection: the client ("remote") or the proxy ("local"). */
export type TcpClosePeer = "local" | "remote";

export class TcpStream implements PendingActionHandler {
  context: Context | null = null;
  /** True once the host closed the connection (plugin request or fail closed). */
  closed = false;
  private readonly downstreamHeld = new BodyBuffer();
  private readonly upstreamHeld = new BodyBuffer();
  private downstreamEnded = false;
  private upstreamEnded = false;
  private passthrough = false;
  private finished = false;
  /** A data callback of this connection is in progress: it applies the policy itself on return. */
  private ownCall = false;
  private readonly failurePolicy: FailurePolicy;
  private readonly properties: PropertyTree;

  /**
   * `options` may be the failure policy alone (the older form). Nothing is called into the module
   * until `newConnection()`.
   */
  constructor(readonly plugin: Plugin, readonly sink: TcpStreamSink, options: TcpStreamOptions | FailurePolicy = {}) {
    const normalized: TcpStreamOptions = typeof options === "string" ? { failurePolicy: options } : options;
    this.failurePolicy = normalized.failurePolicy ?? "fail_closed";
    this.properties = normalized.properties ?? {};
  }

  private get vm() {
    return this.plugin.vm;
  }

  /** True once the downstream connection is closed (by either side): no more callbacks. */
  get isFinished(): boolean {
    return this.finished;
  }

  private failed(): boolean {
    if (!this.vm.failed) return this.passthrough;
    if (!this.passthrough) {
      this.passthrough = true;
      if (this.failurePolicy !== "fail_open") this.closeConnection();
    }
    return true;
  }

  /**
   * A downstream connection was accepted: context creation and `proxy_on_new_connection`. Call once,
   * first. Returns the plugin's verdict; "StopIteration" when the connection was closed meanwhile.
   */
  newConnection(): TcpStatus {
    if (this.finished || this.context !== null) return "StopIteration";
    if (this.failed()) return this.closed ? "StopIteration" : "Continue";
    const context = this.plugin.createStreamContext("tcp");
    context.driver = this;
    context.streamInfo = newStreamInfo(wallClockMs(this.vm.process.scheduler), context.id, this.properties);
    this.context = context;
    const result = this.vm.invoke("proxy_on_new_connection", this.vm.callback("proxy_on_new_connection"), context, context.id);
    if (this.failed()) return this.closed ? "StopIteration" : "Continue";
    this.applyPendingActions();
    if (this.closed) return "StopIteration";
    return result === 0 || result === undefined ? "Continue" : "StopIteration";
  }

  /** Bytes from the client. "StopIteration" without a callback once the connection is closed. */
  downstreamData(data: Uint8Array, endOfStream: boolean): TcpStatus {
    return this.onData(true, data, endOfStream);
  }

  /**
   * Bytes from the upstream. An end of stream then reports `proxy_on_upstream_connection_close(UNKNOWN)`
   * (Envoy does not watch the upstream connection itself). "StopIteration" without a callback once
   * the connection is closed.
   */
  upstreamData(data: Uint8Array, endOfStream: boolean): TcpStatus {
    return this.onData(false, data, endOfStream);
  }

  private onData(fromDownstream: boolean, data: Uint8Array, endOfStream: boolean): TcpStatus {
    if (this.closed || this.finished) return "StopIteration";
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
    this.ownCall = true;
    const result = this.vm.invoke(name, this.vm.callback(name), context, context.id, held.length, endOfStream ? 1 : 0);
    this.ownCall = false;
    if (this.failed()) {
      if (!this.closed) this.flush(fromDownstream);
      return this.closed ? "StopIteration" : "Continue";
    }
    const status: TcpStatus = result === 0 || result === undefined ? "Continue" : "StopIteration";
    // Envoy runs the deferred close before the data moves on; data written to a closed connection is lost.
    this.applyPendingActions();
    if (!fromDownstream && endOfStream && !this.finished) {
      // Envoy's Context::onWrite reports the upstream close before returning to the filter
      // manager, so this filter's close callback runs before the bytes reach the next filter.
      this.vm.invoke("proxy_on_upstream_connection_close", this.vm.callback("proxy_on_upstream_connection_close"), context, context.id, PeerType.Unknown);
      if (this.failed()) {
        if (!this.closed) this.flush(fromDownstream);
        return this.closed ? "StopIteration" : "Continue";
      }
      this.applyPendingActions();
    }
    if (status === "Continue" && !this.closed) this.flush(fromDownstream);
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

  /**
   * The downstream connection closed: `proxy_on_downstream_connection_close(LOCAL=1 | REMOTE=2)`,
   * then done, log, delete (the TCP order). Does nothing the second time, or before `newConnection()`.
   */
  close(peer: TcpClosePeer = "remote"): void {
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
    context.clearAvailability();
  }

  /** The proxy closes the connection: the sink first, then the LOCAL close callbacks (a socket event in Envoy). */
  private closeConnection(): void {
    if (this.closed) return;
    this.closed = true;
    this.sink.close();
    this.close("local");
  }

  /**
   * The VM failed in a callback other than this connection's own (PendingActionHandler): data the
   * plugin held back gets the failure policy now (fail closed: the connection is closed; fail
   * open: it goes on). A connection holding nothing gets the policy at its next event, as in Envoy.
   */
  vmFailed(): void {
    if (this.finished || this.passthrough || this.ownCall || this.context === null) return;
    const downstreamWaits = this.downstreamHeld.length > 0;
    const upstreamWaits = this.upstreamHeld.length > 0;
    if (!downstreamWaits && !upstreamWaits) return;
    this.failed();
    if (this.closed) return;
    if (downstreamWaits) this.flush(true);
    if (upstreamWaits) this.flush(false);
  }

  /** Applies `proxy_continue_stream`/`proxy_close_stream` requested for this connection. */
  applyPendingActions(): void {
    const context = this.context;
    if (context === null || this.finished) return;
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
