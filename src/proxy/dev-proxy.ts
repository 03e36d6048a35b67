import { AccessLogWriter, type AccessLogStreams } from "./access-log/access-log-writer";
import { clustersJson, clustersText } from "./admin/clusters-view";
import { configDump } from "./admin/config-dump";
import { startAdminServer, type AdminServer, type AdminViews } from "./admin-server";
import { ClusterStats } from "./cluster-stats";
import {
  DEFAULT_CLUSTER,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_HTTP_STAT_PREFIX,
  effectiveRouteTable,
  httpListenerViews,
  type ClusterConfig,
  type DevProxyConfig,
} from "./config/dev-proxy-config";
import { startDownstreamListener, type DownstreamListener } from "./downstream-listener";
import { startEchoUpstream, type EchoUpstream } from "./echo-upstream";
import type { HttpFilterFactory } from "./filters/http-filter";
import { chainWithNativeFilters } from "./filters/native-filters";
import { runHttpExchange, type DownstreamRequest, type DownstreamResponse } from "./http-stream-exchange";
import { ProxyLogger, type LogLevelName } from "./proxy-logger";
import { ProxyStats } from "./proxy-stats";
import { RouteTable } from "./router/route-table";
import { NetworkWasmFilters } from "./filters/network-wasm-filters";
import { newProcessSharedState, type ProcessSharedState } from "./process-shared-state";
import { startTcpListener, type TcpListener } from "./tcp-listener";
import { UpstreamPool } from "./upstream-pool";

/** A running dev proxy. */
export interface DevProxy {
  /**
   * `http://host:port` (`https://` with TLS) of the first HTTP listener; without one (a bootstrap with
   * only TCP listeners), `tcp://host:port` (`tls://`) of the first TCP listener.
   */
  readonly url: string;
  /** The HTTP listeners, in bootstrap order (the first's URL is `url`); empty without one. */
  readonly httpListeners: readonly HttpListenerInfo[];
  /** The TCP listeners, in bootstrap order, with the ports they got. */
  readonly tcpListeners: readonly TcpListenerInfo[];
  /** `http://host:port` of the admin endpoint, or null when it is off. */
  readonly adminUrl: string | null;
  /** URL of the built-in echo upstream, or null when an upstream was configured. */
  readonly echoUrl: string | null;
  readonly stats: ProxyStats;
  readonly logger: ProxyLogger;
  /** Stops accepting, drops open connections, releases the filters. Safe to call twice. */
  close(): Promise<void>;
}

/** Where an HTTP listener listens. */
export interface HttpListenerInfo {
  /** The bootstrap listener's `name`; empty when it has none. */
  readonly name: string;
  /** `http://host:port`, or `https://` with TLS, with the port it got. */
  readonly url: string;
}

/** Where a TCP listener listens. */
export interface TcpListenerInfo {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
}

/** Builds the filters of the chain once the clusters are known (callouts resolve names there). */
export type FilterChainBuilder = (env: FilterBuildEnv) => Promise<FilterChainHandle>;

export interface FilterBuildEnv {
  config: DevProxyConfig;
  clusters: ReadonlyMap<string, ClusterConfig>;
  logger: ProxyLogger;
  stats: ProxyStats;
  /** The process-wide shared data and queues, which the network filters use too. */
  shared?: ProcessSharedState;
}

/** The filters for new streams; `current()` may change over time (hot reload). */
export interface FilterChainHandle {
  current(): readonly HttpFilterFactory[];
  /** Follows `/logging` level changes (the host drops filter log lines below its level). */
  setLogLevel?(level: LogLevelName): void;
  close(): Promise<void>;
}

export interface StartDevProxyOptions {
  logger?: ProxyLogger;
  /** Where access logs to `/dev/stdout` and `/dev/stderr` go (default: the process's streams). */
  accessLogStreams?: AccessLogStreams;
  /** How the configured filters become stream filters; without it `config.filters` must be empty. */
  buildFilters?: FilterChainBuilder;
}

/**
 * Starts the dev proxy described by `config`: the echo upstream when asked for, the filters of
 * each HTTP listener (`httpListenerViews`), the listeners, then the admin endpoint, and marks
 * `/ready` LIVE once traffic can flow. A filter that fails to load or configure rejects the start
 * (as Envoy refuses such a bootstrap) and nothing is left listening.
 */
export async function startDevProxy(config: DevProxyConfig, options: StartDevProxyOptions = {}): Promise<DevProxy> {
  const logger = options.logger ?? new ProxyLogger({ level: config.logLevel });
  const stats = new ProxyStats();
  const cleanups: Array<() => Promise<void> | void> = [];
  const closeAll = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };

  try {
    let echo: EchoUpstream | null = null;
    const clusters = new Map(config.clusters.map((cluster) => [cluster.name, cluster]));
    if (config.echoUpstream && !clusters.has(DEFAULT_CLUSTER)) {
      echo = await startEchoUpstream(config.listener.host);
      cleanups.push(() => echo!.close());
      clusters.set(DEFAULT_CLUSTER, {
        name: DEFAULT_CLUSTER,
        url: new URL(echo.url),
        http2: false,
        connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      });
      logger.log("main", "info", `built-in echo upstream on ${echo.url}`);
    }

    const shared = newProcessSharedState();
    const upstreams = new UpstreamPool(clusters, new ClusterStats(stats));
    cleanups.push(() => upstreams.close());
    // One filter chain per HTTP listener, each with plugin instances of its own (shared data and
    // queues stay process-wide, by vm_id); without an HTTP listener, the first builds the services.
    const views = config.serveHttp ? httpListenerViews(config) : [config];
    const filterHandles: FilterChainHandle[] = [];
    const servers: Array<{ view: DevProxyConfig; serve: (req: DownstreamRequest, res: DownstreamResponse) => void }> = [];
    for (const view of views) {
      const scoped = stats.withHttpPrefix(view.statPrefix ?? DEFAULT_HTTP_STAT_PREFIX);
      let filters: FilterChainHandle = { current: () => [], close: async () => {} };
      if (options.buildFilters !== undefined) {
        filters = await options.buildFilters({ config: view, clusters, logger, stats: scoped, shared });
        const built = filters;
        cleanups.push(() => built.close());
        filterHandles.push(built);
      } else if (view.filters.length > 0 || (view.services?.length ?? 0) > 0) {
        throw new Error("no filter builder given for the configured filters");
      }
      const chain = chainWithNativeFilters(view, scoped);
      chain(filters.current()); // refuses a placement the filters cannot have, before anything listens
      const dynamicMetadata = (view.metadataFilters?.length ?? 0) > 0;
      const suppressEnvoyHeaders = view.suppressEnvoyHeaders === true;
      const stripHostPort = view.stripHostPort;
      const routes = new RouteTable(effectiveRouteTable(view), clusters);
      const accessLog = AccessLogWriter.open(
        view.accessLogs,
        options.accessLogStreams ?? { stdout: process.stdout, stderr: process.stderr },
        (message) => logger.log("config", "warning", message),
      );
      if (accessLog !== null) cleanups.push(() => accessLog.close());
      const current = filters;
      servers.push({
        view,
        serve: (req, res) => runHttpExchange(req, res, { filters: chain(current.current()), routes, upstreams, logger, stats: scoped, dynamicMetadata, suppressEnvoyHeaders, stripHostPort, accessLog }),
      });
    }
    let url = "";
    const httpListeners: HttpListenerInfo[] = [];
    if (config.serveHttp) {
      for (const { view, serve } of servers) {
        const scoped = stats.withHttpPrefix(view.statPrefix ?? DEFAULT_HTTP_STAT_PREFIX);
        const listener: DownstreamListener = await startDownstreamListener(view.listener.host, view.listener.port, serve, { stats: scoped, logger, tls: view.listener.tls ?? null });
        cleanups.push(() => listener.close());
        httpListeners.push({ name: view.listener.name ?? "", url: `${view.listener.tls ? "https" : "http"}://${hostForUrl(view.listener.host)}:${listener.port}` });
      }
      url = httpListeners[0].url;
    }

    let network: NetworkWasmFilters | null = null;
    const tcpListeners: TcpListener[] = [];
    if (config.tcpListeners.length > 0) {
      network = new NetworkWasmFilters(config.tcpListeners, { clusters, logger, stats, callbackTimeLimitMs: config.callbackTimeLimitMs, shared, hotReload: config.hotReload });
      if (config.tcpListeners.some((listener) => listener.filters.length > 0)) {
        if (config.concurrency > 1) logger.log("main", "info", "network (TCP) filters run on the listener's thread; --concurrency applies to HTTP filters");
      }
      const started = network;
      cleanups.push(() => started.close());
      for (const [index, listener] of config.tcpListeners.entries()) {
        const running = await startTcpListener({ listener, filters: started.filtersOf(index), clusters, logger, stats });
        cleanups.push(() => running.close());
        tcpListeners.push(running);
      }
      if (url === "") url = `${tcpListeners[0].tls ? "tls" : "tcp"}://${hostForUrl(tcpListeners[0].host)}:${tcpListeners[0].port}`;
    }

    let admin: AdminServer | null = null;
    if (config.admin !== null) {
      const startedAt = new Date();
      const views: AdminViews = {
        clusters: (format) => (format === "json" ? clustersJson : clustersText)(clusters.values(), stats.snapshot()),
        configDump: () => configDump(config, clusters.values(), startedAt),
      };
      admin = await startAdminServer(config.admin.host, config.admin.port, stats, logger, (level) => {
        for (const filters of filterHandles) filters.setLogLevel?.(level);
        network?.setLogLevel(level);
      }, views);
      cleanups.push(() => admin!.close());
    }
    admin?.markReady();
    const tcpText = tcpListeners.map((listener) => `, TCP listener ${listener.name ? `${listener.name} ` : ""}on ${listener.tls ? "tls" : "tcp"}://${hostForUrl(listener.host)}:${listener.port}`).join("");
    const moreHttpText = httpListeners.slice(1).map((listener) => `, HTTP listener ${listener.name ? `${listener.name} ` : ""}on ${listener.url}`).join("");
    logger.log("main", "info", `listening on ${config.serveHttp ? url : "(no HTTP listener)"}${moreHttpText}${tcpText}${admin ? `, admin on ${admin.url}` : ""}`);

    return {
      url,
      httpListeners,
      tcpListeners: tcpListeners.map(({ name, host, port, tls }) => ({ name, host, port, tls })),
      adminUrl: admin?.url ?? null,
      echoUrl: echo?.url ?? null,
      stats,
      logger,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
