/**
 * One Proxy-Wasm VM: a module instance with its memory, its allocator, its contexts and its
 * failure state (reference §4.1–§4.4, §4.9, §4.10). Hostcall families and drivers sit on top.
 */
import { EMPTY_BYTES, bytesToString } from "./bytes";
import { LOG_LEVEL_NAMES, Result, type AbiVersion, type LogLevelName, type ResultCode } from "./constants";
import { Context } from "./context";
import { ContextTable } from "./context-table";
import { MemoryAccessError, MissingMemoryError, RestrictedCallError, StartSectionHostcallError } from "./errors";
import { wasmApi, type WasmImports, type WasmInstance, type WasmMemory } from "./wasm-api";
import { buildImports, type HostcallObserver, type ImportMemory } from "./imports";
import { COVERAGE_IMPORT_MODULE, coverageImports } from "./coverage-hits";
import { wasmLogPrefix } from "./log";
import type { CheckedModule } from "./module";
import type { Metric } from "./metrics";
import type { PluginInfo } from "./plugin-info";
import type { ProxyProcess } from "./process";
import { describeFailure, InstantiationError, MAX_BACKTRACE_FRAMES, type VmFailure } from "./vm-failure";
import type { ModuleSourceMap } from "./source-map/module-source-map";
import { RecentBytes, RECENT_BYTES_MAX } from "./recent-bytes";
import { CallbackDeadline } from "./module/interrupt-deadline";
import { MAX_WASM_MEMORY_BYTES, MAX_WASM_MEMORY_PAGES, START_FUNCTION_EXPORT, WASM_PAGE_BYTES } from "./module/host-controlled-module";

/** The name failure reports give the function of a module's wasm start section. */
export const START_SECTION_CALLBACK = "wasm start section";

/**
 * `Error.stackTraceLimit` while the module runs: the 20 wasm frames may be interleaved with the
 * host's own JS frames (a trap in the allocator called from a hostcall), which count too.
 */
const STACK_TRACE_CAPTURE_LIMIT = MAX_BACKTRACE_FRAMES + 30;
const errorConstructor = Error as { stackTraceLimit: number };

export interface VmOptions {
  readonly process: ProxyProcess;
  /** Envoy `vm_config.vm_id`. */
  readonly vmId?: string;
  /** Envoy `vm_config.configuration` as bytes (buffer 6). */
  readonly vmConfiguration?: Uint8Array;
  /** WASI environment variables (`vm_config.environment_variables`). */
  readonly environment?: Readonly<Record<string, string>>;
  /** Record hostcalls that hit data the current callback does not have (see `strictViolations`). */
  readonly strict?: boolean;
  /** Called before every hostcall (for traces and for counting host round trips); none by default. */
  readonly onHostcall?: HostcallObserver;
  /** Called before every call into the module (callbacks, start functions, the allocator); none by default. */
  readonly onCallback?: CallbackObserver;
  /**
   * Stops a call into the module (a callback, a start function, the allocator, with everything it
   * calls back into) that runs longer than this many milliseconds: the VM then fails as if the
   * module had trapped, with a report that names the limit. Envoy has no such limit; the dev
   * proxy and tests use it so a looping filter cannot hang them. 0 or absent: no limit. Needs a
   * module loaded with `loadCheckedModule(bytes, { interruptible: true })`.
   */
  readonly callbackTimeLimitMs?: number;
  /**
   * The module's source map: failure reports then name the AssemblyScript file, line and column of
   * each frame (see vm-failure.ts). None by default.
   */
  readonly sourceMap?: ModuleSourceMap;
  /**
   * Creates the instance from the compiled module and the host's imports, for an embedder that
   * must own the instance: the as-pect integration, whose spec module is also the filter under
   * test, links the host's imports into the instance as-pect runs. Must return an instance whose
   * imports call the given ones. Default: `new WebAssembly.Instance(module, imports)`.
   */
  readonly instantiate?: (module: object, imports: WasmImports) => WasmInstance;
}

/**
 * Observes a call into the module (export name and its arguments, as many as the export takes)
 * before it runs. It may return a function, which is called with the export's result (undefined
 * for a void export) once it returned; it is not called when the export trapped.
 */
export type CallbackObserver = (name: string, args: readonly number[]) => void | ((result: number | undefined) => void);

/** A hostcall that asked for data the callback does not have; recorded in strict mode. */
export interface StrictViolation {
  readonly hostcall: string;
  readonly callback: string;
  readonly contextId: number;
  readonly detail: string;
}

type Export = (...args: number[]) => number | undefined;

/**
 * The exports every HTTP stream calls, looked up once per VM so a request reads fields instead
 * of looking names up; undefined where the module does not export one.
 */
export interface StreamCallbackExports {
  readonly contextCreate: Export | undefined;
  readonly requestHeaders: Export | undefined;
  readonly requestBody: Export | undefined;
  readonly requestTrailers: Export | undefined;
  readonly responseHeaders: Export | undefined;
  readonly responseBody: Export | undefined;
  readonly responseTrailers: Export | undefined;
  readonly log: Export | undefined;
  readonly done: Export | undefined;
  readonly delete: Export | undefined;
}

/** Where hostcalls may be made from. */
const enum Restriction {
  None = 0,
  Start = 1,
  Allocator = 2,
  /** The wasm start section: no hostcall that needs a context (imports.ts guards them). */
  StartSection = 3,
}

export class Vm {
  readonly abiVersion: AbiVersion;
  readonly vmId: string;
  readonly vmConfiguration: Uint8Array;
  readonly environment: Readonly<Record<string, string>>;
  readonly process: ProxyProcess;
  readonly strict: boolean;
  readonly onHostcall: HostcallObserver | undefined;
  readonly onCallback: CallbackObserver | undefined;
  readonly strictViolations: StrictViolation[] = [];
  readonly functionNames: ReadonlyMap<number, string>;
  readonly sourceMap: ModuleSourceMap | undefined;

  /** The per-stream callbacks, resolved at instantiation. */
  readonly streamCallbacks: StreamCallbackExports;
  /**
   * True when the module imports `proxy_get_property`, the only way it can see a stream's times
   * (`request.time`, `request.duration`): drivers read the clock for a stream only then.
   */
  readonly readsProperties: boolean;

  /** Live contexts by id (the VM context 0 is not in here). */
  readonly contexts = new ContextTable();
  /** The context the VM's own calls (start, allocator) run on. */
  readonly vmContext: Context;

  /** Set once the VM trapped; no callback runs afterwards. */
  failure: VmFailure | null = null;
  /** Called once when the VM fails. */
  readonly failureListeners: ((failure: VmFailure) => void)[] = [];

  /** Buffer 8 (foreign-function arguments): whatever was set last. */
  callData: Uint8Array = EMPTY_BYTES;
  /** Per-VM counters for callout tokens (§5.8). */
  nextHttpCallToken = 0;
  nextGrpcCallToken = 1;
  nextGrpcStreamToken = 2;
  /** Per-VM metric id counters by type (§5.13): counters 4, 8, …; gauges 5, 9, …; histograms 6, 10, …. */
  readonly nextMetricIds = [4, 5, 6];
  /** Metric id -> the stat it names. */
  readonly metricIds = new Map<number, Metric>();

  private readonly instance: WasmInstance;
  private readonly memory: WasmMemory;
  private u8: Uint8Array;
  private readonly recentBytes = new RecentBytes();
  private view: DataView;
  private readonly allocator: Export;
  /** The module's function exports by name (a Map: the exports object is slow to index by name). */
  private readonly functionExports = new Map<string, Export>();
  private nextContextId = 1;
  private current: Context;
  private effective: Context | null = null;
  private callbackName = "";
  private depth = 0;
  /** Set once the live streams were told the VM failed (see tellStreamsOfFailure). */
  private streamsToldOfFailure = false;
  private restriction = Restriction.None;
  private lastAbortMessage: string | undefined;
  private readonly dirty: Context[] = [];
  private readonly idleTasks: (() => void)[] = [];
  private readonly deadline: CallbackDeadline | null = null;
  private readonly callbackTimeLimitMs: number;
  private readonly originalCodeOffset: ((offset: number) => number) | undefined;
  /** False for a module that exports and imports no memory (cpp-host loads it; see checkRange). */
  private readonly hasMemory: boolean;
  /** The running hostcall as `module.name`; only kept for a module without memory (imports.ts). */
  hostcallName = "";
  private savedStackTraceLimit = 0;

  /**
   * Instantiates a module that passed `loadCheckedModule` (which reports a missing marker,
   * allocator and unknown imports with cpp-host's messages) and runs its wasm start section, if
   * any, under the callback time limit. Does not run the module's start functions: call `start()`.
   *
   * @throws InstantiationError ("Failed to create new Wasm instance", logged at error level) when
   *   the start section traps, runs past the time limit or makes a hostcall that needs a context,
   *   or when the instance cannot be created (a memory minimum above 1 GiB, a data segment out of
   *   bounds).
   */
  constructor(checked: CheckedModule, options: VmOptions) {
    if (checked.info.abiVersion === null) throw new Error("Missing or unknown Proxy-Wasm ABI version");
    this.abiVersion = checked.info.abiVersion;
    this.process = options.process;
    this.vmId = options.vmId ?? "";
    this.vmConfiguration = options.vmConfiguration ?? EMPTY_BYTES;
    this.environment = options.environment ?? {};
    this.strict = options.strict ?? false;
    this.onHostcall = options.onHostcall;
    this.onCallback = options.onCallback;
    this.functionNames = checked.info.functionNames;
    this.sourceMap = options.sourceMap;
    this.readsProperties = checked.info.imports.some((entry) => entry.module === "env" && entry.name === "proxy_get_property");
    this.callbackTimeLimitMs = options.callbackTimeLimitMs ?? 0;
    this.originalCodeOffset = checked.originalCodeOffset;
    if (this.callbackTimeLimitMs > 0 && checked.interruptible !== true) {
      throw new Error("callbackTimeLimitMs needs a module loaded with { interruptible: true }");
    }
    const vmPlugin: PluginInfo = {
      name: "",
      rootId: "",
      vmId: this.vmId,
      configuration: EMPTY_BYTES,
      allowOnHeadersStopIteration: false,
      properties: {},
    };
    this.vmContext = new Context(0, "root", vmPlugin, null);
    this.current = this.vmContext;
    const importMemory: ImportMemory = { memory: null };
    const declared = checked.info.memory;
    const imports = buildImports(this, importMemory, { guardStartSection: checked.startExported === true, nameHostcalls: declared === null });
    const counters = coverageImports(checked.info.imports);
    if (counters !== null) imports[COVERAGE_IMPORT_MODULE] = counters;
    if (declared !== null && declared.limits.min > MAX_WASM_MEMORY_PAGES) {
      throw this.instantiationFailed(
        `the module's memory starts at ${declared.limits.min} pages (${declared.limits.min * WASM_PAGE_BYTES} bytes), ` +
          `above the ${MAX_WASM_MEMORY_PAGES} pages (${MAX_WASM_MEMORY_BYTES} bytes) a Proxy-Wasm VM may have`,
      );
    }
    const importedMemory = declared?.source === "imported" ? this.importMemory(imports, declared.name, declared.limits) : undefined;
    for (const entry of checked.info.imports) {
      if (entry.kind !== "table") continue;
      // As cpp-host's `V8::link` does: a table of the import's element type and limits.
      const element = entry.element === "externref" ? "externref" : "anyfunc";
      (imports[entry.module] ??= {})[entry.name] = new wasmApi.Table({ element, initial: entry.limits!.min, ...(entry.limits!.max === undefined ? {} : { maximum: entry.limits!.max }) });
    }
    try {
      this.instance = options.instantiate !== undefined ? options.instantiate(checked.module, imports) : new wasmApi.Instance(checked.module, imports);
    } catch (error) {
      throw this.instantiationFailed(`V8 refused the instance: ${error instanceof Error ? error.message : String(error)}`);
    }
    const exported = this.instance.exports as Record<string, unknown>;
    const memory = importedMemory ?? (Object.values(exported).find((e) => e instanceof (wasmApi.Memory as unknown as typeof Object)) as WasmMemory | undefined);
    this.hasMemory = memory !== undefined;
    // Without one, WASI's accessor traps (imports.ts), and the VM's views cover an empty stand-in:
    // every access misses it, and checkRange then traps.
    importMemory.memory = memory ?? null;
    this.memory = memory ?? new wasmApi.Memory({ initial: 0, maximum: 0 });
    this.u8 = new Uint8Array(this.memory.buffer);
    this.view = new DataView(this.memory.buffer);
    if (this.callbackTimeLimitMs > 0) {
      this.deadline = new CallbackDeadline();
      this.deadline.attach(exported);
    }
    for (const name of Object.keys(exported)) {
      const value = exported[name];
      if (typeof value === "function") this.functionExports.set(name, value as Export);
    }
    this.streamCallbacks = {
      contextCreate: this.callback("proxy_on_context_create"),
      requestHeaders: this.callback("proxy_on_request_headers"),
      requestBody: this.callback("proxy_on_request_body"),
      requestTrailers: this.callback("proxy_on_request_trailers"),
      responseHeaders: this.callback("proxy_on_response_headers"),
      responseBody: this.callback("proxy_on_response_body"),
      responseTrailers: this.callback("proxy_on_response_trailers"),
      log: this.callback("proxy_on_log"),
      done: this.callback("proxy_on_done"),
      delete: this.callback("proxy_on_delete"),
    };
    const allocator = (exported.malloc ?? exported.proxy_on_memory_allocate) as Export | undefined;
    if (typeof allocator !== "function") throw new Error("Wasm module is missing malloc function.");
    this.allocator = allocator;
    const startFunction = checked.startExported === true ? this.callback(START_FUNCTION_EXPORT) : undefined;
    if (startFunction !== undefined) this.runStartSection(startFunction);
  }

  /**
   * Runs the function the module's start section names, as V8 would during instantiation but
   * under the callback time limit and with every context-needing hostcall trapping (there is no
   * current context yet). A failure is logged as cpp-host's instantiation failure and thrown.
   */
  private runStartSection(fn: Export): void {
    this.restriction = Restriction.StartSection;
    try {
      this.invoke(START_SECTION_CALLBACK, fn, this.vmContext);
    } finally {
      this.restriction = Restriction.None;
    }
    const failure = this.failure;
    if (failure !== null) throw this.instantiationFailed(failure.report, failure);
  }

  /** Logs cpp-host's instantiation failure with `reason` at error level; returns the error to throw. */
  private instantiationFailed(reason: string, failure?: VmFailure): InstantiationError {
    const error = new InstantiationError(reason, failure);
    this.hostLog("error", error.report);
    return error;
  }

  /**
   * Creates the memory a module imports, as cpp-host does (src/v8/v8.cc `V8::link`), with its
   * maximum capped at 1 GiB like a defined memory's, and adds it to `imports`.
   */
  private importMemory(imports: Record<string, Record<string, unknown>>, key: string, limits: { min: number; max?: number; shared: boolean }): WasmMemory {
    const dot = key.indexOf(".");
    const module = key.slice(0, dot);
    const name = key.slice(dot + 1);
    const maximum = Math.min(limits.max ?? MAX_WASM_MEMORY_PAGES, MAX_WASM_MEMORY_PAGES);
    const memory = new wasmApi.Memory({ initial: limits.min, maximum, ...(limits.shared ? { shared: true } : {}) });
    (imports[module] ??= {})[name] = memory;
    return memory;
  }

  /** True while the module's wasm start section runs (hostcalls needing a context trap then). */
  get inStartSection(): boolean {
    return this.restriction === Restriction.StartSection;
  }

  /** A callback export by name, or undefined when the module does not export it. */
  callback(name: string): Export | undefined {
    return this.functionExports.get(name);
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  /** Bytes of linear memory currently allocated, for leak checks. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  // ---------------------------------------------------------------- module start

  /**
   * Runs `_initialize` then `main(0, 0)` or `__main_void()`, or else `_start`, with only the
   * restricted hostcall set allowed (§4.1). Returns false when the VM failed doing so.
   */
  start(): boolean {
    const initialize = this.callback("_initialize");
    const steps: [string, Export | undefined][] = initialize !== undefined
      ? [["_initialize", initialize], this.callback("main") !== undefined ? ["main", this.callback("main")] : ["__main_void", this.callback("__main_void")]]
      : [["_start", this.callback("_start")]];
    for (const [name, fn] of steps) {
      if (fn === undefined) continue;
      this.restriction = Restriction.Start;
      try {
        this.invoke(name, fn, this.vmContext, 0, 0);
      } finally {
        this.restriction = Restriction.None;
      }
      if (this.failure !== null) return false;
    }
    return true;
  }

  // ---------------------------------------------------------------- contexts

  /** Allocates the next context id from the single per-VM counter (starts at 1). */
  allocateContextId(): number {
    return this.nextContextId++;
  }

  /** The context hostcalls act on: the effective context if one is set and alive, else the current one. */
  activeContext(): Context {
    const effective = this.effective;
    return effective !== null && !effective.deleted ? effective : this.current;
  }

  /** The context the running callback was delivered to. */
  get currentContext(): Context {
    return this.current;
  }

  /** Name of the running callback ("" between callbacks). */
  get currentCallback(): string {
    return this.callbackName;
  }

  /** Registers a new context under its id. */
  addContext(context: Context): void {
    this.contexts.set(context.id, context);
  }

  /**
   * Sends `proxy_on_delete` (if exported) and forgets the context: its tick timer stops and calls
   * that target it fall back to the current context (§4.9).
   */
  deleteContext(context: Context): void {
    if (context.deleted) return;
    this.invoke("proxy_on_delete", this.streamCallbacks.delete, context, context.id);
    context.deleted = true;
    if (context.tickTimer !== null) this.process.scheduler.cancelTimer(context.tickTimer);
    context.tickTimer = null;
    this.contexts.delete(context.id);
  }

  /** `proxy_set_effective_context`: false when no such context exists (0 clears the override). */
  setEffectiveContext(id: number): boolean {
    if (id === 0) {
      this.effective = null;
      return true;
    }
    const context = this.contexts.get(id);
    if (context === undefined) return false;
    this.effective = context;
    return true;
  }

  /** Asks for `context`'s driver to apply its pending actions once the outermost callback returns. */
  markPendingActions(context: Context): void {
    if (!this.dirty.includes(context)) this.dirty.push(context);
  }

  /** Runs `task` now when no callback is running, else right after the outermost one returns. */
  runWhenIdle(task: () => void): void {
    if (this.depth === 0) task();
    else this.idleTasks.push(task);
  }

  get inCallback(): boolean {
    return this.depth > 0;
  }

  // ---------------------------------------------------------------- calling into wasm

  /**
   * Calls a module export on `context` with the current/effective context saved and restored.
   * Returns the export's result; undefined when the VM is (or becomes) failed or `fn` is absent.
   * A trap fails the whole VM. Host bugs (errors other than traps) are rethrown.
   */
  invoke(name: string, fn: Export | undefined, context: Context, a = 0, b = 0, c = 0, d = 0, e = 0): number | undefined {
    if (this.failure !== null || fn === undefined) return undefined;
    const savedCurrent = this.current;
    const savedEffective = this.effective;
    const savedCallback = this.callbackName;
    this.current = context;
    this.effective = null;
    this.callbackName = name;
    if (this.depth === 0) this.lastAbortMessage = undefined;
    const onResult = this.onCallback === undefined ? undefined : this.onCallback(name, [a, b, c, d, e].slice(0, fn.length));
    if (this.depth === 0) {
      // The limit covers the outermost call with everything nested in it (allocator, effective-context calls).
      if (this.deadline !== null) this.deadline.arm(this.callbackTimeLimitMs);
      // A trap's backtrace is captured when it is thrown, so the limit must be up before the call.
      this.savedStackTraceLimit = errorConstructor.stackTraceLimit;
      if (!(this.savedStackTraceLimit >= STACK_TRACE_CAPTURE_LIMIT)) errorConstructor.stackTraceLimit = STACK_TRACE_CAPTURE_LIMIT;
    }
    this.depth++;
    let result: number | undefined;
    let trapped = false;
    try {
      result = fn(a, b, c, d, e);
    } catch (error) {
      trapped = true;
      this.fail(name, error);
      result = undefined;
    } finally {
      if (--this.depth === 0) {
        if (this.deadline !== null) this.deadline.disarm();
        errorConstructor.stackTraceLimit = this.savedStackTraceLimit;
      }
      this.current = savedCurrent;
      this.effective = savedEffective;
      this.callbackName = savedCallback;
    }
    if (typeof onResult === "function" && !trapped) onResult(result);
    if (this.depth === 0) this.afterOutermostCallback(context);
    return this.failure === null ? result : undefined;
  }

  private afterOutermostCallback(target: Context): void {
    while (this.dirty.length > 0) {
      const context = this.dirty.shift()!;
      if (context !== target && !context.deleted) context.driver?.applyPendingActions();
    }
    if (this.failure !== null && !this.streamsToldOfFailure) this.tellStreamsOfFailure(target);
    while (this.idleTasks.length > 0 && this.depth === 0) this.idleTasks.shift()!();
  }

  /**
   * Once, after the callback that failed the VM returned: every live stream but the one that
   * callback was delivered to (its driver checks the VM itself when the call returns) hears of the
   * failure, so a stream paused in the filter is answered by its failure policy now. Envoy has no
   * such step (cpp-host checks `isFailed()` only when the next stream event arrives, which a
   * paused stream may never see); the isolation issue asks that no stream wait on a dead VM.
   */
  private tellStreamsOfFailure(target: Context): void {
    this.streamsToldOfFailure = true;
    for (const context of this.contexts.snapshot()) {
      if (context === target || context.deleted) continue;
      context.driver?.vmFailed();
    }
  }

  /** Marks the VM failed with a report built from `error`, logs it and tells the listeners. */
  fail(callback: string, error: unknown): void {
    if (this.failure !== null) return;
    const isTrap =
      error instanceof wasmApi.RuntimeError ||
      error instanceof RestrictedCallError ||
      error instanceof StartSectionHostcallError ||
      error instanceof MissingMemoryError ||
      error instanceof RangeError;
    if (!isTrap) throw error;
    const timedOut = this.deadline !== null && this.deadline.interrupted;
    const reason = timedOut ? `callback time limit (${this.callbackTimeLimitMs} ms) exceeded` : undefined;
    this.failure = describeFailure(callback, error, {
      abortMessage: this.lastAbortMessage,
      names: this.functionNames,
      stopReason: reason,
      originalCodeOffset: this.originalCodeOffset,
      sourceMap: this.sourceMap,
    });
    // A start section's failure is logged once, as the instantiation failure it is.
    if (this.restriction === Restriction.StartSection) return;
    this.hostLog("error", this.failure.report);
    for (const listener of this.failureListeners) listener(this.failure);
  }

  /**
   * Calls the module's allocator (`malloc` preferred) with only the allocator's restricted set
   * allowed. Returns the pointer, or 0 when it failed (returned 0, trapped, or out of memory).
   */
  allocate(size: number): number {
    if (this.failure !== null) return 0;
    const savedRestriction = this.restriction;
    this.restriction = Restriction.Allocator;
    let pointer: number | undefined;
    try {
      pointer = this.invoke("malloc", this.allocator, this.vmContext, size);
    } finally {
      this.restriction = savedRestriction;
    }
    if (pointer === undefined) return 0;
    pointer >>>= 0;
    if (pointer === 0 || pointer + size > this.memory.buffer.byteLength) return 0;
    return pointer;
  }

  /**
   * Throws RestrictedCallError (a trap) when `hostcall` is made during module start or inside the
   * allocator. Every hostcall outside the restricted set calls this first.
   */
  checkUnrestricted(hostcall: string): void {
    if (this.restriction === Restriction.None) return;
    throw new RestrictedCallError(hostcall, this.restriction === Restriction.Start ? "start" : "allocator");
  }

  /** Traps when WASI function `key` is called where the restricted set does not allow it. */
  checkRestrictedWasi(key: string, allowedAtStart: boolean, allowedInAllocator: boolean): void {
    if (this.restriction === Restriction.None) return;
    if (this.restriction === Restriction.Start ? allowedAtStart : allowedInAllocator) return;
    this.checkUnrestricted(key);
  }

  /** Records a strict-mode violation (no effect unless strict). */
  reportUnavailable(hostcall: string, detail: string): void {
    if (!this.strict) return;
    this.strictViolations.push({ hostcall, callback: this.callbackName, contextId: this.activeContext().id, detail });
  }

  // ---------------------------------------------------------------- memory

  /**
   * Makes `u8`/`view` cover the whole current memory. Reading `memory.buffer` costs a call into
   * V8 each time, so this runs only when a view looks stale: growing a (non-shared) memory
   * detaches the old buffer, which empties its views, and an access past the view's end may
   * just mean the memory grew.
   */
  private refreshViews(): void {
    const buffer = this.memory.buffer;
    if (this.u8.buffer === buffer && this.u8.byteLength === buffer.byteLength) return;
    this.u8 = new Uint8Array(buffer);
    this.view = new DataView(buffer);
  }

  private checkRange(pointer: number, size: number): void {
    if (this.u8.byteLength === 0 || pointer + size > this.u8.length) {
      this.refreshViews();
      if (pointer + size > this.u8.length) {
        if (!this.hasMemory) throw new MissingMemoryError(this.hostcallName || "the host");
        throw new MemoryAccessError(`[${pointer}, +${size}) is outside linear memory`);
      }
    }
  }

  /** A copy of `[pointer, pointer + size)`; (0, 0) is the empty value. Throws MemoryAccessError. */
  readBytes(pointer: number, size: number): Uint8Array {
    pointer >>>= 0;
    size >>>= 0;
    if (size === 0) return EMPTY_BYTES;
    this.checkRange(pointer, size);
    const u8 = this.u8;
    // Header names and values are short; a plain loop copies them faster than slice().
    if (size > 64) return u8.slice(pointer, pointer + size);
    const copy = new Uint8Array(size);
    for (let i = 0; i < size; i++) copy[i] = u8[pointer + i];
    return copy;
  }

  /**
   * The bytes of `[pointer, pointer + size)`, possibly the very array an earlier read of equal
   * bytes returned (see RecentBytes): never write into it. For header names and values, which a
   * module passes again on every request. Throws MemoryAccessError.
   */
  readSharedBytes(pointer: number, size: number): Uint8Array {
    pointer >>>= 0;
    size >>>= 0;
    if (size === 0 || size > RECENT_BYTES_MAX) return this.readBytes(pointer, size);
    this.checkRange(pointer, size);
    return this.recentBytes.read(this.u8, pointer, size);
  }

  /** The range decoded as UTF-8. Throws MemoryAccessError. */
  readString(pointer: number, size: number): string {
    return bytesToString(this.readBytes(pointer, size));
  }

  writeU32(pointer: number, value: number): void {
    pointer >>>= 0;
    this.checkRange(pointer, 4);
    this.view.setUint32(pointer, value >>> 0, true);
  }

  writeU64(pointer: number, value: bigint): void {
    pointer >>>= 0;
    this.checkRange(pointer, 8);
    this.view.setBigUint64(pointer, BigInt.asUintN(64, value), true);
  }

  writeBytes(pointer: number, data: Uint8Array): void {
    pointer >>>= 0;
    this.checkRange(pointer, data.length);
    this.u8.set(data, pointer);
  }

  /**
   * Returns `data` to the module through `(ptr_ptr, size_ptr)` (§3.1): empty data writes 0/0
   * without allocating; otherwise the module's allocator is called. Returns `Ok`, or
   * `InvalidMemoryAccess` for bad out-pointers or a failed allocation.
   */
  returnBytes(data: Uint8Array, pointerPointer: number, sizePointer: number): ResultCode {
    try {
      this.checkRange(pointerPointer >>> 0, 4);
      this.checkRange(sizePointer >>> 0, 4);
      if (data.length === 0) {
        this.writeU32(pointerPointer, 0);
        this.writeU32(sizePointer, 0);
        return Result.Ok;
      }
      const pointer = this.allocate(data.length);
      if (pointer === 0) return Result.InvalidMemoryAccess;
      this.writeBytes(pointer, data);
      this.writeU32(pointerPointer, pointer);
      this.writeU32(sizePointer, data.length);
      return Result.Ok;
    } catch (error) {
      return this.hostcallError(error);
    }
  }

  /** What a hostcall returns for an error it caught: `InvalidMemoryAccess`, or rethrow (trap / host bug). */
  hostcallError(error: unknown): ResultCode {
    if (error instanceof MemoryAccessError) return Result.InvalidMemoryAccess;
    throw error;
  }

  // ---------------------------------------------------------------- logs

  /** A line the plugin wrote at `level` (0..5), in Envoy's `wasm log<prefix>: <message>` format. */
  wasmLog(level: number, message: string): void {
    if (level === 5 && message.startsWith("abort: ")) this.lastAbortMessage = message;
    if (!this.process.isLogged(level)) return;
    const context = this.activeContext();
    const plugin = context.plugin;
    const prefix = wasmLogPrefix(context.isRoot, plugin.name, plugin.rootId, this.vmId);
    this.process.emit({
      level: LOG_LEVEL_NAMES[level],
      source: "wasm",
      message,
      line: `wasm log${prefix}: ${message}`,
      contextId: context.id,
      pluginName: plugin.name,
      vmId: this.vmId,
    });
  }

  /** A line the host writes about this VM (traps, restricted calls, WASI notes). */
  hostLog(level: LogLevelName, message: string): void {
    const numeric = LOG_LEVEL_NAMES.indexOf(level);
    if (!this.process.isLogged(numeric)) return;
    const context = this.activeContext();
    this.process.emit({ level, source: "host", message, line: message, contextId: context.id, pluginName: context.plugin.name, vmId: this.vmId });
  }
}
