import { AccessLogWriter, type AccessLogStreams } from "./access-log/access-log-writer";
import { clustersJson, clustersText } from "./admin/clusters-view";
import { configDump } from "./admin/config-dump";
import { startAdminServer, type AdminServer, type AdminViews } from "./admin-server";
import { ClusterStats } from "./cluster-stats";
import {
  DEFAULT_CLUSTER,
  DEFAULT_CONNECT_TIMEOUT_MS,
  effectiveRouteTable,
  type ClusterConfig,
  type DevProxyConfig,
} from "./config/dev-proxy-config";
import { startDownstreamListener, type DownstreamListener } from "./downstream-listener";
import { startEchoUpstream, type EchoUpstream } from "./echo-upstream";
import type { HttpFilterFactory } from "./filters/http-filter";
import { chainWithNativeFilters } from "./filters/native-filters";
import { runHttpExchange } from "./http-stream-exchange";
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
   * `http://host:port` (`https://` with TLS) of the HTTP listener; without one (a bootstrap with
   * only TCP listeners), `tcp://host:port` (`tls://`) of the first TCP listener.
   */
  readonly url: string;
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
 * Starts the dev proxy described by `config`: the echo upstream when asked for, the filters, the
 * listener, then the admin endpoint, and marks `/ready` LIVE once traffic can flow. A filter that
 * fails to load or configure rejects the start (as Envoy refuses such a bootstrap) and nothing
 * is left listening.
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
    let filters: FilterChainHandle = { current: () => [], close: async () => {} };
    if (options.buildFilters !== undefined) {
      filters = await options.buildFilters({ config, clusters, logger, stats, shared });
      cleanups.push(() => filters.close());
    } else if (config.filters.length > 0 || (config.services?.length ?? 0) > 0) {
      throw new Error("no filter builder given for the configured filters");
    }

    const chain = chainWithNativeFilters(config, stats);
    chain(filters.current()); // refuses a placement the filters cannot have, before anything listens
    const dynamicMetadata = (config.metadataFilters?.length ?? 0) > 0;
    const suppressEnvoyHeaders = config.suppressEnvoyHeaders === true;
    const stripHostPort = config.stripHostPort;
    const upstreams = new UpstreamPool(clusters, new ClusterStats(stats));
    const routes = new RouteTable(effectiveRouteTable(config), clusters);
    const accessLog = AccessLogWriter.open(
      config.accessLogs,
      options.accessLogStreams ?? { stdout: process.stdout, stderr: process.stderr },
      (message) => logger.log("config", "warning", message),
    );
    if (accessLog !== null) cleanups.push(() => accessLog.close());
    cleanups.push(() => upstreams.close());
    let url = "";
    if (config.serveHttp) {
      const listener: DownstreamListener = await startDownstreamListener(
        config.listener.host,
        config.listener.port,
        (req, res) => runHttpExchange(req, res, { filters: chain(filters.current()), routes, upstreams, logger, stats, dynamicMetadata, suppressEnvoyHeaders, stripHostPort, accessLog }),
        { stats, logger, tls: config.listener.tls ?? null },
      );
      cleanups.push(() => listener.close());
      url = `${config.listener.tls ? "https" : "http"}://${hostForUrl(config.listener.host)}:${listener.port}`;
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
        filters.setLogLevel?.(level);
        network?.setLogLevel(level);
      }, views);
      cleanups.push(() => admin!.close());
    }
    admin?.markReady();
    const tcpText = tcpListeners.map((listener) => `, TCP listener ${listener.name ? `${listener.name} ` : ""}on ${listener.tls ? "tls" : "tcp"}://${hostForUrl(listener.host)}:${listener.port}`).join("");
    logger.log("main", "info", `listening on ${config.serveHttp ? url : "(no HTTP listener)"}${tcpText}${admin ? `, admin on ${admin.url}` : ""}`);

    return {
      url,
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
