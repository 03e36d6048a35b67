// network: a TCP (network filter) tour. Logs the connection's lifecycle and the bytes flowing
// each way, reads upstream properties, and counts completed connections.
import {
  RootContext, TcpContext, FilterStatus, PeerType, Metric, getPropertyString, getPropertyMap,
  lastResult, log, registerRoot,
} from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

const UPSTREAM_ADDRESS = ["upstream", "address"];
// Cluster metadata is under `xds` in current Envoy; older releases (the `xds.*` names replaced
// them in late 2024) only know the top-level `cluster_metadata`.
const LOCATION = ["xds", "cluster_metadata", "filter_metadata", "location"];
const LEGACY_LOCATION = ["cluster_metadata", "filter_metadata", "location"];

class NetworkRoot extends RootContext {
  readonly connections: Metric = Metric.counter("proxy_wasm_as.connection_counter");

  onVmStart(vmConfigurationSize: u32): bool {
    // A Metric is defined with the host on first use; doing it now makes the stat visible
    // (at 0) before the first connection completes.
    if (this.connections.metricId == 0) log.warn("failed to define the connection counter");
    return true;
  }

  createTcpContext(contextId: u32): TcpContext {
    return new ConnectionLogger(contextId, this);
  }
}

class ConnectionLogger extends TcpContext {
  constructor(id: u32, private readonly plugin: NetworkRoot) {
    super(id, plugin);
  }

  onNewConnection(): FilterStatus {
    log.info("new connection!");
    return FilterStatus.Continue;
  }

  onDownstreamData(dataSize: u32, endOfStream: bool): FilterStatus {
    if (dataSize == 0) return FilterStatus.Continue;
    log.info(">>>>>> downstream data received >>>>>>\n" + this.downstreamData.text(0, dataSize));
    return FilterStatus.Continue;
  }

  onDownstreamConnectionClose(peer: PeerType): void {
    log.info("downstream connection close!");
  }

  onUpstreamData(dataSize: u32, endOfStream: bool): FilterStatus {
    if (dataSize == 0) return FilterStatus.Continue;

    const address = getPropertyString(UPSTREAM_ADDRESS);
    if (address !== null) log.info("remote address: " + address);
    else log.warn("failed to get upstream address: WasmResult " + (<i32>lastResult()).toString());

    let location = getPropertyMap(LOCATION);
    if (location === null) location = getPropertyMap(LEGACY_LOCATION);
    if (location !== null) {
      for (let i = 0; i < location.length; i++) {
        const entry = location[i];
        log.info("upstream cluster metadata location[" + entry.key + "]=" + entry.value);
      }
    } else {
      log.warn("failed to get upstream cluster metadata location: WasmResult " + (<i32>lastResult()).toString());
    }

    log.info("<<<<<< upstream data received <<<<<<\n" + this.upstreamData.text(0, dataSize));
    return FilterStatus.Continue;
  }

  onDone(): bool {
    this.plugin.connections.increment(1);
    log.info("connection complete!");
    return true;
  }
}

registerRoot("", (contextId: u32): RootContext => new NetworkRoot(contextId));
