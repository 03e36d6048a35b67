/**
 * One `TestHost` of an AssemblyScript spec. The "Envoy process" (clock, logs, callouts) is built
 * before the plugin starts, so a spec can still read the logs of a plugin that failed to start,
 * which is how a filter's configuration errors are tested.
 */
import { ManualScheduler, ProxyProcess } from "../../host";
import { CalloutRecorder } from "../callout-recorder";
import { LogRecorder } from "../log-recorder";
import { createTestHost, type TestHost } from "../test-host";
import type { HostSettings } from "./host-settings";
import type { SpecModuleFilter } from "./spec-module-filter";

/** What `TestHostOptions.shareProcessWith` reads from the host it shares with. */
interface ProcessShell {
  readonly process: ProxyProcess;
  readonly clock: ManualScheduler;
  readonly logs: LogRecorder;
  readonly callouts: CalloutRecorder;
}

export class HostSession {
  readonly clock: ManualScheduler;
  readonly logs = new LogRecorder();
  readonly callouts = new CalloutRecorder();
  readonly process: ProxyProcess;
  /** The started host, or null when the module was refused or the plugin failed to start. */
  readonly host: TestHost | null = null;
  /** Why the host did not start (ModuleLoadError / PluginStartError text), "" when it did. */
  readonly startError: string = "";

  /** Loads and starts the plugin; never throws for a module or plugin failure (see startError). */
  /**
   * @param sourceMap the module's source map file, for failure reports at source lines
   * @param self set when the module is the spec module itself (the host adopts its instance)
   */
  constructor(wasm: Uint8Array, settings: HostSettings, sourceMap?: string, self?: SpecModuleFilter) {
    this.clock = new ManualScheduler(settings.clockStartMs);
    this.process = new ProxyProcess({ scheduler: this.clock, logLevel: settings.logLevel, logSink: this.logs.sink, clusters: settings.clusters, upstream: this.callouts });
    const shell: ProcessShell = { process: this.process, clock: this.clock, logs: this.logs, callouts: this.callouts };
    try {
      this.host = createTestHost({
        wasm,
        sourceMap: sourceMap ?? false,
        pluginConfig: settings.pluginConfig,
        vmConfig: settings.vmConfig,
        vmId: settings.vmId,
        pluginName: settings.pluginName,
        rootId: settings.rootId,
        clusters: settings.clusters,
        failurePolicy: settings.failurePolicy,
        strict: settings.strict,
        allowOnHeadersStopIteration: settings.allowOnHeadersStopIteration,
        environment: settings.environment,
        properties: settings.properties,
        // A sink that prints nothing: the lines are kept in `traceLines` for the spec to read.
        trace: settings.trace ? () => {} : undefined,
        // TestHost only reads these four fields of the host it shares a process with; sharing
        // with our shell is what keeps the logs of a failed start.
        shareProcessWith: shell as unknown as TestHost,
        ...(self === undefined ? {} : { instantiate: self.instantiate, extraHostFunctions: self.extraHostFunctions }),
      });
    } catch (error) {
      this.startError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  }

  /** The started host; throws when the plugin did not start, quoting why. */
  requireHost(): TestHost {
    if (this.host === null) throw new Error(`the plugin did not start: ${this.startError}`);
    return this.host;
  }
}
