/**
 * The test kit's host: one plugin on one VM (more with `addPlugin`; other hosts may share the
 * process), a fake clock, recorded logs and callouts. Works with node:test, vitest and jest: it
 * uses no globals and throws plain Errors.
 */
import type { HostcallObserver } from "../host/imports";
import type { ExtraHostFunction } from "../host/module";
import type { VmOptions } from "../host/vm";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  loadCheckedModule,
  ManualScheduler,
  PluginHost,
  ProxyProcess,
  type FailurePolicy,
  type ForeignFunction,
  type HeadersInit,
  type LogLevelName,
  type PropertyTree,
} from "../host";
import { toBytes, type BytesLike } from "../host/bytes";
import { checkBufferLimit, DEFAULT_BUFFER_LIMIT_BYTES } from "../host/drivers/buffer-limit";
import { debuggerMapText, loadSourceMap } from "../host/source-map/source-map-file";
import { inspectorActive } from "../host/inspect-mode";

export type { FlowInput, FlowResult } from "./flow";
import { CalloutRecorder } from "./callout-recorder";
import { CallTrace, combineHostcallObservers, type TraceOption } from "./call-trace";
import { playFlow, type FlowInput, type FlowResult } from "./flow";
import { HttpStreamHandle } from "./http-handle";
import { LogRecorder } from "./log-recorder";
import { PluginHandle, type AddPluginOptions } from "./plugin-handle";
import { TcpConnectionHandle } from "./tcp-handle";

/**
 * `Config` types the plugin configuration: pass the interface the build wrote beside a module
 * with a declared configuration (`import type { PluginConfig } from "../build/x.config"`).
 */
export interface TestHostOptions<Config extends object = object> {
  /** The module: a file path, file URL or the bytes. */
  readonly wasm: string | URL | Uint8Array;
  /** Plugin configuration; objects are sent as JSON text. */
  readonly pluginConfig?: BytesLike | Config;
  /** VM configuration; objects are sent as JSON text. */
  readonly vmConfig?: BytesLike | object;
  readonly vmId?: string;
  readonly pluginName?: string;
  readonly rootId?: string;
  /** Extra property values, e.g. `{ xds: { cluster_name: "web" } }`. */
  readonly properties?: PropertyTree;
  /** Cluster names callouts may target. */
  readonly clusters?: readonly string[];
  /**
   * How many settled (answered, failed, cancelled) callouts `callouts.all` and `callouts.http`
   * keep, the most recent ones (default 16); callouts not settled yet are always kept. Ignored
   * with `shareProcessWith` (the callouts are that host's).
   */
  readonly keepSettledCallouts?: number;
  /** Envoy's wasm log level; default `trace` so tests see every line. */
  readonly logLevel?: LogLevelName;
  /** Start of the fake clock, ms since epoch (default 2024-01-01T00:00:00Z). */
  readonly clockStartMs?: number;
  readonly failurePolicy?: FailurePolicy;
  readonly reloadBackoffMs?: number;
  /** Throw on a hostcall that asked for data its callback does not have. */
  readonly strict?: boolean;
  readonly allowOnHeadersStopIteration?: boolean;
  /** WASI environment variables. */
  readonly environment?: Readonly<Record<string, string>>;
  /** Share the "Envoy process" (shared data, queues, clock, logs) with another test host. */
  readonly shareProcessWith?: TestHost;
  /** Called before every hostcall the module makes: count host round trips or trace them. */
  readonly onHostcall?: HostcallObserver;
  /**
   * Trace every call into the module and every hostcall with its arguments and result, in
   * cpp-host's format (`[host->vm] name(args)`, `[vm->host] module.name(args)`, and their
   * `return:` lines). `true` prints to stderr, a function receives each line; either way the lines
   * are kept in `traceLines`. Off by default, and then free.
   */
  readonly trace?: TraceOption;
  /**
   * Stops a call into the module that runs longer than this many milliseconds of real time (the
   * fake clock does not count) and fails the VM with `Function: <callback> failed: callback time
   * limit (<ms> ms) exceeded`, so a filter stuck in a loop fails its test instead of hanging it.
   * Envoy has no such limit. Off (0) by default; the module is then compiled as it is.
   */
  readonly callbackTimeLimitMs?: number;
  /**
   * Envoy's per-stream buffer limit (`per_connection_buffer_limit_bytes`): a plugin that buffers
   * more body than this in one direction (StopIterationAndBuffer, or StopAllIterationAndBuffer
   * from headers) fails the stream as in Envoy: a request gets the 413 `Payload Too Large` local
   * reply (`request_payload_too_large`), a response the 500 `Internal Server Error`
   * (`response_payload_too_large`), or a reset once its headers went to the client. 0: no limit.
   * Default 1 MiB, Envoy's default.
   */
  readonly bufferLimitBytes?: number;
  /**
   * The module's source map, so that failure reports name the AssemblyScript file, line and
   * column of each frame (`Function: <callback> failed: <trap> at assembly/index.ts:12:5`). By
   * default the test kit uses `<wasm>.map` beside a module given as a path or URL, where
   * `proxy-wasm-as build` writes it; a path or URL here must exist; `false` uses none (reports
   * then name functions only, as Envoy's do).
   */
  readonly sourceMap?: string | URL | false;
  /**
   * Load the module for a debugger: its source map goes into the compiled module's
   * `sourceMappingURL` section, so Chrome DevTools and VS Code show the AssemblyScript sources
   * and stop at breakpoints set in them, and `callbackTimeLimitMs` is ignored, so a pause is not
   * a trap. Default: on when Node's inspector is open in this process or PWAS_INSPECT=1
   * (`proxy-wasm-as test --inspect` does both).
   */
  readonly inspect?: boolean;
  /**
   * Imports the module has beyond the ABI's (module, name and signature each), which the embedder
   * provides through `instantiate`; without them such a module is refused as Envoy refuses it.
   */
  readonly extraHostFunctions?: readonly ExtraHostFunction[];
  /**
   * Creates the instance from the host's imports instead of the host doing so (see
   * `VmOptions.instantiate`): the as-pect integration uses it to host the spec module itself.
   */
  readonly instantiate?: VmOptions["instantiate"];
}

/** Options for one TCP connection of a test host or plugin handle. */
export interface TcpConnectionOptions {
  /** Property overrides for this connection only, e.g. `{ source: { address: "10.0.0.1:5000" } }`. */
  readonly properties?: PropertyTree;
}

function configBytes(value: BytesLike | object | undefined): Uint8Array | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" || value instanceof Uint8Array) return toBytes(value);
  return toBytes(JSON.stringify(value));
}

function filePath(file: string | URL): string {
  return file instanceof URL ? fileURLToPath(file) : file;
}

function readWasm(wasm: string | URL | Uint8Array): Uint8Array {
  if (wasm instanceof Uint8Array) return wasm;
  return new Uint8Array(readFileSync(filePath(wasm)));
}

export class TestHost {
  readonly process: ProxyProcess;
  readonly clock: ManualScheduler;
  readonly logs: LogRecorder;
  readonly callouts: CalloutRecorder;
  readonly host: PluginHost;
  private readonly strict: boolean;
  private readonly callTrace: CallTrace | undefined;
  /** The per-stream buffer limit every stream of this host gets (0: none). */
  readonly bufferLimitBytes: number;

  /** Loads, starts and configures the plugin. Throws ModuleLoadError or PluginStartError. */
  constructor(options: TestHostOptions) {
    const shared = options.shareProcessWith;
    if (shared !== undefined) {
      this.process = shared.process;
      this.clock = shared.clock;
      this.logs = shared.logs;
      this.callouts = shared.callouts;
    } else {
      this.clock = new ManualScheduler(options.clockStartMs);
      this.logs = new LogRecorder();
      this.callouts = new CalloutRecorder({ keepSettled: options.keepSettledCallouts });
      this.process = new ProxyProcess({ scheduler: this.clock, logLevel: options.logLevel ?? "trace", logSink: this.logs.sink, clusters: options.clusters, upstream: this.callouts });
    }
    for (const cluster of options.clusters ?? []) this.process.clusters.add(cluster);
    this.strict = options.strict ?? false;
    this.bufferLimitBytes = checkBufferLimit(options.bufferLimitBytes ?? DEFAULT_BUFFER_LIMIT_BYTES, "bufferLimitBytes");
    this.callTrace = CallTrace.from(options.trace);
    const bytes = readWasm(options.wasm);
    const sourceMap = loadSourceMap(bytes, {
      wasmPath: options.wasm instanceof Uint8Array ? undefined : filePath(options.wasm),
      mapPath: options.sourceMap === undefined || options.sourceMap === false ? options.sourceMap : filePath(options.sourceMap),
      onProblem: (message) => this.process.emit({ level: "warn", source: "host", message, line: message, contextId: 0, pluginName: options.pluginName ?? "", vmId: options.vmId ?? "" }),
    });
    const inspect = options.inspect ?? inspectorActive();
    const callbackTimeLimitMs = inspect ? 0 : (options.callbackTimeLimitMs ?? 0);
    this.host = new PluginHost({
      module: loadCheckedModule(bytes, {
        interruptible: callbackTimeLimitMs > 0,
        extraHostFunctions: options.extraHostFunctions,
        ...(inspect && sourceMap !== undefined ? { debuggerSourceMap: debuggerMapText(sourceMap) } : {}),
      }),
      process: this.process,
      vm: {
        sourceMap,
        callbackTimeLimitMs,
        vmId: options.vmId ?? "",
        vmConfiguration: configBytes(options.vmConfig),
        environment: options.environment,
        strict: this.strict,
        onHostcall: combineHostcallObservers(options.onHostcall, this.callTrace?.onHostcall),
        onCallback: this.callTrace?.onCallback,
        instantiate: options.instantiate,
      },
      name: options.pluginName ?? "",
      rootId: options.rootId ?? "",
      configuration: configBytes(options.pluginConfig),
      allowOnHeadersStopIteration: options.allowOnHeadersStopIteration,
      properties: options.properties,
      failurePolicy: options.failurePolicy,
      reloadBackoffMs: options.reloadBackoffMs,
    });
  }

  /** The current VM (a new one after a reload). */
  get vm() {
    return this.host.vm;
  }

  /** The root context id of the plugin (1 for the first plugin of a VM). */
  get rootContextId(): number {
    return this.host.plugin.root.id;
  }

  /** The VM failure report, or null while the VM is healthy. */
  get failure(): string | null {
    return this.host.vm.failure?.report ?? null;
  }

  /** A new HTTP stream. `properties` override attributes for this stream only. */
  http(options: { properties?: PropertyTree } = {}): HttpStreamHandle {
    return new HttpStreamHandle((sink) => this.host.httpStream(sink, { properties: options.properties, bufferLimitBytes: this.bufferLimitBytes }), () => this.checkStrict());
  }

  /**
   * The trace lines recorded so far (module start, plugin start and every stream included), oldest
   * first. Throws when the host was created without `trace`, so a test cannot assert on a trace
   * that was never taken.
   */
  get traceLines(): string[] {
    if (this.callTrace === undefined) throw new Error("traceLines: create the test host with { trace: true } or { trace: (line) => ... }");
    return this.callTrace.lines;
  }

  /** Forgets the trace lines recorded so far (e.g. those of plugin start). Throws like `traceLines`. */
  clearTrace(): void {
    this.traceLines.length = 0;
  }

  /**
   * A new TCP connection on the current VM (reloading first if due; call `newConnection()` first).
   * `properties` override attributes for this connection only, so one host can serve connections
   * from several source addresses.
   */
  tcp(options: TcpConnectionOptions = {}): TcpConnectionHandle {
    return new TcpConnectionHandle((sink) => this.host.tcpStream(sink, { properties: options.properties }), () => this.checkStrict());
  }

  /**
   * One whole request: request frames in, the upstream's response (if the request reaches it),
   * then completion. Returns what reached the upstream and what the client got.
   */
  flow(input: FlowInput): FlowResult {
    return playFlow(this.http(), input);
  }

  /**
   * Starts another plugin configuration on this host's VM (a new root context: 2, 3, …), as Envoy
   * does for filters whose `vm_config` shares code and `vm_id`. Its streams come from the
   * handle's `http()`/`tcp()`/`flow()`; logs, metrics, callouts and the clock stay this host's.
   * Legal while the VM is healthy; throws PluginStartError when the plugin rejects its start or
   * configuration, and a plain Error when the VM has failed.
   */
  addPlugin<Config extends object = object>(options: AddPluginOptions<Config> = {}): PluginHandle {
    if (this.host.vm.failed) throw new Error("addPlugin: the VM has failed; no plugin can start on it");
    return new PluginHandle(this, {
      name: options.name ?? "",
      rootId: options.rootId ?? "",
      configuration: configBytes(options.pluginConfig),
      properties: options.properties,
      allowOnHeadersStopIteration: options.allowOnHeadersStopIteration,
    });
  }

  /**
   * Configures the plugin again with the same configuration: `proxy_on_configure` on its existing
   * root context, as proxy-wasm-cpp-host does when a plugin of the same key (name, root_id, vm_id,
   * configuration) starts again on a VM that still has its root context (src/wasm.cc:
   * `WasmBase::start` finds the root, `WasmBase::configure` calls `proxy_on_configure` on it; the
   * start step before it re-runs `proxy_on_context_create` and `proxy_on_vm_start`, which this
   * call leaves out). Nothing else changes: no new root context, no new VM. Legal while the VM is
   * healthy and the plugin not shut down (a plain Error otherwise); throws PluginStartError when
   * the plugin rejects its configuration (returns 0) or traps.
   */
  reconfigure(): void {
    this.host.plugin.configure();
    this.checkStrict();
  }

  /** Moves the fake clock forward, firing ticks that fall due. */
  advanceTime(ms: number): void {
    this.clock.advance(ms);
    this.checkStrict();
  }

  /** Delivers queued `proxy_on_queue_ready` notifications (and other posted work); returns how many ran. */
  flushQueues(): number {
    const ran = this.clock.runPosted();
    this.checkStrict();
    return ran;
  }

  /** A metric's value by the name the plugin defined (or its `wasmcustom.` name); undefined if never defined. */
  metric(name: string): bigint | undefined {
    return this.process.metrics.get(name)?.value;
  }

  /** Registers a foreign function the plugin can call with `proxy_call_foreign_function`. */
  registerForeignFunction(name: string, fn: ForeignFunction): void {
    this.process.foreignFunctions.register(name, fn);
  }

  /** Shared data value of `key` in this VM's vm_id partition, decoded as UTF-8, or undefined. */
  sharedData(key: string): string | undefined {
    const entry = this.process.sharedData.get(this.host.vm.vmId, key);
    return entry === undefined ? undefined : new TextDecoder().decode(entry.value);
  }

  /** Removes the plugin (`proxy_on_done`, …); true when the root context is gone. */
  shutdown(): boolean {
    return this.host.shutdown();
  }

  /**
   * Runs `request` (which should play one complete stream) `iterations` times after a warm-up and
   * throws when stream contexts are left alive or linear memory grew by more than
   * `toleranceBytes` (default one 64 KiB page, to absorb allocator/GC rounding).
   */
  leakCheck(iterations: number, request: (index: number) => void, toleranceBytes = 65536): { memoryGrowth: number } {
    for (let i = 0; i < 3; i++) request(-1 - i);
    const contextsBefore = this.host.vm.contexts.size;
    const memoryBefore = this.host.vm.memoryBytes;
    for (let i = 0; i < iterations; i++) request(i);
    const contextsAfter = this.host.vm.contexts.size;
    const growth = this.host.vm.memoryBytes - memoryBefore;
    if (contextsAfter !== contextsBefore) throw new Error(`leak check: ${contextsAfter - contextsBefore} context(s) still alive after ${iterations} requests`);
    if (growth > toleranceBytes) throw new Error(`leak check: linear memory grew by ${growth} bytes over ${iterations} requests (tolerance ${toleranceBytes})`);
    return { memoryGrowth: growth };
  }

  /** In strict mode, throws on the first hostcall that asked for data its callback does not have. */
  checkStrict(): void {
    if (!this.strict) return;
    const violations = this.host.vm.strictViolations;
    if (violations.length === 0) return;
    const text = violations.map((v) => `${v.hostcall} in ${v.callback} (context ${v.contextId}): ${v.detail}`).join("\n");
    violations.length = 0;
    throw new Error(`strict mode: hostcall not allowed here:\n${text}`);
  }
}

/** Creates a test host: loads, starts and configures the plugin (`Config`: see TestHostOptions). */
export function createTestHost<Config extends object = object>(options: TestHostOptions<Config>): TestHost {
  return new TestHost(options);
}
