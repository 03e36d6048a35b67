import { connect as connectTcp, type Socket } from "node:net";
import { connect as connectTls, type ConnectionOptions, type TLSSocket } from "node:tls";
import { tlsConnectionAttributes } from "./downstream-tls";
import type { TcpClosePeer, TcpStream, TcpStreamSink } from "../host/drivers/tcp-stream";
import type { PropertyValue } from "../host/plugin-info";
import type { ClusterConfig } from "./config/dev-proxy-config";
import type { TcpListenerConfig, TcpProxyConfig } from "./config/tcp-listener-config";
import type { NetworkWasmFilter } from "./filters/network-wasm-filters";
import type { ProxyLogger } from "./proxy-logger";
import type { ProxyStats } from "./proxy-stats";
import { upstreamTlsOptions } from "./upstream-tls";

/** The filter state key Envoy's tcp_proxy reads its cluster from (tcp_proxy.cc `PerConnectionCluster`). */
export const TCP_PROXY_CLUSTER_KEY = "envoy.tcp_proxy.cluster";

export interface TcpConnectionEnv {
  listener: TcpListenerConfig;
  filters: readonly NetworkWasmFilter[];
  clusters: ReadonlyMap<string, ClusterConfig>;
  logger: ProxyLogger;
  stats: ProxyStats;
}

/** Mutable per-connection property overrides: `upstream.*` and `xds.*` appear once connected. */
type ConnectionProperties = Record<string, PropertyValue>;

/**
 * One downstream connection of a TCP listener, shaped as Envoy's network filter manager runs it
 * (envoy source/common/network/filter_manager_impl.cc): read filters in order, the Wasm filters
 * first and the terminal filter (tcp_proxy or direct_response) last; writes (bytes for the
 * client) through the Wasm filters in reverse order. Each Wasm filter is a TcpStream of the host,
 * so the callbacks, their order, buffering while a filter stops, `proxy_close_stream` and the
 * failure policy are the test kit's.
 *
 * - A filter's `proxy_on_new_connection` runs when the connection is accepted, or, behind a filter
 *   that stopped there, when that filter first lets bytes through or continues (as Envoy's
 *   `onContinueReading` initialises the next filter). tcp_proxy connects upstream then, to the
 *   cluster in the filter state `envoy.tcp_proxy.cluster` if a filter set one (foreign function
 *   `set_envoy_filter_state`), else its `cluster` (envoy source/common/tcp_proxy/tcp_proxy.cc
 *   `pickRoute`). An unknown cluster or a failed connect closes the connection (LOCAL).
 * - Half-close is passed on both ways (tcp_proxy enables half-close): the client's FIN reaches the
 *   filters as `end_of_stream` and then the upstream; the upstream's FIN reaches them as
 *   `end_of_stream`, then `proxy_on_upstream_connection_close`, then the client.
 * - The connection closes when both directions ended: REMOTE when the client's FIN came last,
 *   LOCAL when ours did (envoy source/common/network/connection_impl.cc, `bothSidesHalfClosed`).
 *   A reset from the client is REMOTE. The upstream closing, a filter's `proxy_close_stream`,
 *   a fail-closed VM failure and the idle timeout close it LOCAL. Every Wasm filter then gets
 *   `proxy_on_downstream_connection_close`, first filter first.
 */
export class TcpProxyConnection {
  private readonly stages: Stage[] = [];
  private readonly properties: ConnectionProperties;
  private upstream: Socket | null = null;
  private upstreamConnected = false;
  /** Bytes for the upstream before it connected, and whether the client's end came with them. */
  private pendingUpstream: Buffer[] = [];
  private pendingUpstreamEnd = false;
  private readEnded = false;
  /** Our end of stream to the client was written (the FIN goes once what precedes it is flushed). */
  private writeEndRequested = false;
  private closed = false;
  private terminalStarted = false;

  constructor(
    private readonly downstream: Socket,
    private readonly env: TcpConnectionEnv,
  ) {
    const remotePort = downstream.remotePort ?? 0;
    const localPort = downstream.localPort ?? 0;
    this.properties = {
      source: { address: `${hostPart(downstream.remoteAddress)}:${remotePort}`, port: remotePort },
      destination: { address: `${hostPart(downstream.localAddress)}:${localPort}`, port: localPort },
    };
    if ((downstream as TLSSocket).encrypted === true) this.properties.connection = tlsConnectionAttributes(downstream as TLSSocket);
    for (const [index, filter] of env.filters.entries()) {
      const stage = new Stage(this, index);
      const opened = filter.open(stage, this.properties);
      stage.stream = opened.stream;
      stage.release = opened.release;
      this.stages.push(stage);
    }
    if (this.terminal !== null) {
      env.stats.increment(`tcp.${this.terminal.statPrefix}.downstream_cx_total`);
      if (this.terminal.idleTimeoutMs > 0) {
        downstream.setTimeout(this.terminal.idleTimeoutMs, () => {
          env.stats.increment(`tcp.${this.terminal!.statPrefix}.idle_timeout`);
          this.closeLocally(false);
        });
      }
    }
    downstream.on("data", (chunk: Buffer) => {
      if (this.terminal !== null) env.stats.increment(`tcp.${this.terminal.statPrefix}.downstream_cx_rx_bytes_total`, chunk.length);
      this.read(0, chunk, false);
    });
    // Envoy closes a half-closed connection once both directions ended and the writes were flushed
    // (`bothSidesHalfClosed`): RemoteClose when the client's FIN completes it, LocalClose when our
    // flushed FIN does. Node then closes the socket itself (allowHalfOpen).
    downstream.on("end", () => {
      this.readEnded = true;
      const bothEnded = this.writeEndRequested && downstream.writableLength === 0;
      this.read(0, Buffer.alloc(0), true);
      if (bothEnded) this.downstreamClosed("remote");
    });
    downstream.on("finish", () => {
      if (this.readEnded) this.downstreamClosed("local");
    });
    downstream.on("error", () => {});
    // Anything else that ends the socket (a reset, an error) came from the client.
    downstream.on("close", () => this.downstreamClosed("remote"));
    this.initializeFrom(0);
  }

  private get terminal(): TcpProxyConfig | null {
    const terminal = this.env.listener.terminal;
    return terminal.kind === "tcp_proxy" ? terminal : null;
  }

  /**
   * Runs `onNewConnection` of the stages from `index` on, stopping at one that stops; past the
   * last Wasm filter, starts the terminal filter.
   */
  private initializeFrom(index: number): boolean {
    for (let i = index; i < this.stages.length; i++) {
      const stage = this.stages[i];
      if (stage.initialized) continue;
      stage.initialized = true;
      const status = stage.stream.newConnection();
      if (this.closed) return false;
      if (status === "StopIteration") return false;
    }
    if (!this.terminalStarted) {
      this.terminalStarted = true;
      this.startTerminal();
    }
    return !this.closed;
  }

  /** Bytes (and the client's end of stream) arriving at stage `index` (the terminal past the last). */
  read(index: number, data: Buffer, endOfStream: boolean): void {
    if (this.closed) return;
    if (index < this.stages.length) {
      const stage = this.stages[index];
      if (!stage.initialized) {
        stage.initialized = true;
        if (stage.stream.newConnection() === "StopIteration" || this.closed) {
          // Envoy leaves the bytes in the connection's read buffer; this filter sees them with the next ones.
          stage.waiting.push(data);
          stage.waitingEnd ||= endOfStream;
          return;
        }
      }
      const waiting = stage.takeWaiting(data, endOfStream);
      stage.stream.downstreamData(waiting.data, waiting.endOfStream);
      return;
    }
    if (!this.terminalStarted && !this.initializeFrom(index)) return;
    this.toUpstream(data, endOfStream);
  }

  /** Bytes for the client leaving stage `index` toward the client (-1: the socket itself). */
  write(index: number, data: Buffer, endOfStream: boolean): void {
    if (this.closed) return;
    if (index >= 0) {
      this.stages[index].stream.upstreamData(data, endOfStream);
      return;
    }
    if (this.terminal !== null && data.length > 0) this.env.stats.increment(`tcp.${this.terminal.statPrefix}.downstream_cx_tx_bytes_total`, data.length);
    if (data.length > 0 && !this.downstream.write(data)) this.holdWhileFull(this.upstream, this.downstream);
    if (endOfStream && !this.downstream.writableEnded) {
      this.writeEndRequested = true;
      this.downstream.end();
    }
  }

  /** A stage continued (its data or a `proxy_continue_stream`): what it passes goes on, after its waiting bytes. */
  continued(index: number, data: Buffer, endOfStream: boolean): void {
    const stage = this.stages[index];
    const waiting = stage.takeWaiting(data, endOfStream);
    this.read(index + 1, waiting.data, waiting.endOfStream);
  }

  private startTerminal(): void {
    const terminal = this.env.listener.terminal;
    if (terminal.kind === "direct_response") {
      // envoy source/extensions/filters/network/direct_response/filter.cc: write, then close(FlushWrite).
      if (terminal.response.length > 0) this.write(this.stages.length - 1, terminal.response, false);
      this.closeLocally(true);
      return;
    }
    const clusterName = this.filterStateCluster() ?? terminal.cluster;
    const cluster = this.env.clusters.get(clusterName);
    if (cluster === undefined) {
      this.env.stats.increment(`tcp.${terminal.statPrefix}.downstream_cx_no_route`);
      this.env.logger.log("filter", "debug", `Cluster not found ${clusterName} and no on demand cluster set.`, "tcp_proxy");
      this.closeLocally(false);
      return;
    }
    this.connectUpstream(cluster);
  }

  /** The cluster a filter chose through `set_envoy_filter_state`; the last filter's choice wins. */
  private filterStateCluster(): string | undefined {
    let chosen: string | undefined;
    for (const stage of this.stages) {
      const value = stage.stream.context?.streamInfo?.envoyFilterState?.get(TCP_PROXY_CLUSTER_KEY);
      if (value !== undefined) chosen = Buffer.from(value).toString();
    }
    return chosen;
  }

  private connectUpstream(cluster: ClusterConfig): void {
    const host = cluster.url.hostname.replace(/^\[|\]$/g, "");
    const port = Number(cluster.url.port || 80);
    const tls = cluster.tls ?? null;
    this.env.stats.increment(`cluster.${cluster.name}.upstream_cx_total`);
    const upstream: Socket = tls === null
      ? connectTcp({ host, port, allowHalfOpen: true })
      // allowHalfOpen reaches the TLSSocket; Node's typings leave it out.
      : connectTls({ host, port, allowHalfOpen: true, ...upstreamTlsOptions(tls) } as ConnectionOptions);
    this.upstream = upstream;
    const connectTimer = setTimeout(() => upstream.destroy(new Error("connect timeout")), cluster.connectTimeoutMs);
    upstream.once(tls === null ? "connect" : "secureConnect", () => {
      clearTimeout(connectTimer);
      if (this.closed) return;
      this.upstreamConnected = true;
      const address = `${hostPart(upstream.remoteAddress)}:${upstream.remotePort ?? port}`;
      this.properties.upstream = { address, port: upstream.remotePort ?? port };
      this.properties.xds = cluster.filterMetadata === undefined
        ? { cluster_name: cluster.name }
        : { cluster_name: cluster.name, cluster_metadata: { filter_metadata: cluster.filterMetadata as PropertyValue } };
      for (const chunk of this.pendingUpstream) upstream.write(chunk);
      this.pendingUpstream = [];
      if (this.pendingUpstreamEnd) upstream.end();
    });
    upstream.on("data", (chunk: Buffer) => this.write(this.stages.length - 1, chunk, false));
    upstream.on("end", () => this.write(this.stages.length - 1, Buffer.alloc(0), true));
    upstream.on("error", () => {});
    upstream.on("close", () => {
      clearTimeout(connectTimer);
      if (this.closed) return;
      if (!this.upstreamConnected) {
        // tcp_proxy.cc onInitFailure(ConnectFailed): the downstream is closed without flushing.
        this.env.stats.increment(`cluster.${cluster.name}.upstream_cx_connect_fail`);
        this.closeLocally(false);
        return;
      }
      // tcp_proxy.cc onUpstreamEvent: the upstream went away; close the client after flushing.
      this.closeLocally(true);
    });
  }

  private toUpstream(data: Buffer, endOfStream: boolean): void {
    const upstream = this.upstream;
    if (upstream === null || !this.upstreamConnected) {
      if (data.length > 0) this.pendingUpstream.push(data);
      this.pendingUpstreamEnd ||= endOfStream;
      return;
    }
    if (data.length > 0 && !upstream.write(data)) this.holdWhileFull(this.downstream, upstream);
    if (endOfStream && !upstream.writableEnded) upstream.end();
  }

  /**
   * Flow control, as Envoy's watermarks do between the two connections (tcp_proxy.cc
   * `readDisableUpstream`/`readDisableDownstream`): while `full` has more buffered than its high
   * water mark, `source` is not read.
   */
  private holdWhileFull(source: Socket | null, full: Socket): void {
    if (source === null || source.isPaused()) return;
    source.pause();
    full.once("drain", () => source.resume());
  }

  /**
   * The proxy closes the client connection (LOCAL): after what is written was flushed
   * (`FlushWrite`) or at once (`NoFlush`).
   */
  closeLocally(flush: boolean): void {
    if (this.closed) return;
    // destroySoon ends the socket (if not yet) and destroys it once the writes went out.
    if (flush) this.downstream.destroySoon();
    else this.downstream.destroy();
    this.downstreamClosed("local");
  }

  private downstreamClosed(peer: TcpClosePeer): void {
    if (this.closed) return;
    this.closed = true;
    this.downstream.setTimeout(0);
    for (const stage of this.stages) {
      stage.stream.close(peer);
      stage.release();
    }
    const upstream = this.upstream;
    if (upstream !== null) {
      // tcp_proxy TcpUpstream::onDownstreamEvent: a remote close flushes to the upstream, a local one does not.
      if (peer === "remote" && this.upstreamConnected && !upstream.writableEnded) upstream.end(() => upstream.destroy());
      else upstream.destroy();
    }
  }
}

/** One Wasm filter of the chain: its TcpStream and what it passes on. */
class Stage implements TcpStreamSink {
  stream!: TcpStream;
  /** Tells the filter this connection is over (its VM may retire). */
  release: () => void = () => {};
  initialized = false;
  /** Bytes that reached this filter while its `onNewConnection` stopped. */
  waiting: Buffer[] = [];
  waitingEnd = false;

  constructor(
    private readonly connection: TcpProxyConnection,
    private readonly index: number,
  ) {}

  takeWaiting(data: Buffer, endOfStream: boolean): { data: Buffer; endOfStream: boolean } {
    if (this.waiting.length === 0) return { data, endOfStream };
    const joined = Buffer.concat([...this.waiting, data]);
    const end = this.waitingEnd || endOfStream;
    this.waiting = [];
    this.waitingEnd = false;
    return { data: joined, endOfStream: end };
  }

  upstreamData(data: Uint8Array, endOfStream: boolean): void {
    this.connection.continued(this.index, asBuffer(data), endOfStream);
  }

  downstreamData(data: Uint8Array, endOfStream: boolean): void {
    this.connection.write(this.index - 1, asBuffer(data), endOfStream);
  }

  /** `proxy_close_stream` or a fail-closed VM failure: envoy context.cc closeStream/failStream close with FlushWrite. */
  close(): void {
    this.connection.closeLocally(true);
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return bytes instanceof Buffer ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** An address as Envoy prints it in `ip:port`: IPv6 in brackets, IPv4-mapped IPv6 as is. */
function hostPart(address: string | undefined): string {
  if (address === undefined) return "";
  return address.includes(":") ? `[${address}]` : address;
}
