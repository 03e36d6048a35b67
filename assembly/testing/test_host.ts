// A Proxy-Wasm host running the author's built filter, as Envoy would (the test kit's host,
// linked through `withProxyWasmHost` in as-pect.config.js). Configure, then `start()`:
//
//   const host = new TestHost().pluginConfig('{"name": "x", "value": "y"}').start();

import { check } from "./errors";
import { decodeFields, encodeFields } from "./field_list";
import { HttpCallout } from "./http_callout";
import { Headers } from "./headers";
import { HttpStream } from "./http_stream";
import * as host from "./imports";
import { GrpcCall } from "./grpc_call";
import { Logs } from "./logs";
import { Plugin } from "./plugin";
import { Properties } from "./properties";
import { TcpConnection } from "./tcp_connection";

export class TestHost {
  private settings: string[] = [];
  private handle: i32 = 0;

  /**
   * @param filter the name of a filter in the config helper's `filters`; "" (default) is the
   * config's `filter`.
   */
  constructor(filter: string = "") {
    if (filter.length > 0) this.set("filter", filter);
  }

  private set(key: string, value: string): TestHost {
    if (this.handle != 0) throw new Error("TestHost: settings must come before start()");
    this.settings.push(key);
    this.settings.push(value);
    return this;
  }

  /** The plugin configuration (`proxy_on_configure` reads it); usually JSON text. */
  pluginConfig(text: string): TestHost { return this.set("pluginConfig", text); }
  /** The VM configuration (`proxy_on_vm_start` reads it). */
  vmConfig(text: string): TestHost { return this.set("vmConfig", text); }
  vmId(id: string): TestHost { return this.set("vmId", id); }
  pluginName(name: string): TestHost { return this.set("pluginName", name); }
  rootId(id: string): TestHost { return this.set("rootId", id); }
  /** Envoy's log level for the plugin (default "trace": every line is kept). */
  logLevel(level: string): TestHost { return this.set("logLevel", level); }
  /** A cluster callouts may target; call once per cluster. */
  cluster(name: string): TestHost { return this.set("cluster", name); }
  /** Start of the fake clock, ms since the epoch (default 2024-01-01T00:00:00Z). */
  clockStartMs(ms: i64): TestHost { return this.set("clockStartMs", ms.toString()); }
  /** "fail_closed" (default), "fail_open" or "fail_reload": what happens after a trap. */
  failurePolicy(policy: string): TestHost { return this.set("failurePolicy", policy); }
  /** Make a hostcall that asks for data its callback does not have abort the test. */
  strict(on: bool = true): TestHost { return this.set("strict", on ? "true" : "false"); }
  /** Envoy >= 1.35 knob: let StopIteration from a headers callback mean StopIteration. */
  allowOnHeadersStopIteration(on: bool = true): TestHost { return this.set("allowOnHeadersStopIteration", on ? "true" : "false"); }
  /** Property values for every stream and connection (per-stream ones are layered on top). */
  properties(values: Properties): TestHost { return this.set("properties", values.encode()); }
  /** Record every call across the ABI in cpp-host's trace format; read with `traceLines()`. */
  trace(on: bool = true): TestHost { return this.set("trace", on ? "true" : "false"); }
  /** A WASI environment variable for the module. */
  environment(name: string, value: string): TestHost { return this.set("env:" + name, value); }

  /**
   * Loads the filter, starts the VM and configures the plugin. Returns false when the module was
   * refused or `proxy_on_vm_start` / `proxy_on_configure` failed (see `startError`; the logs
   * stay readable). Aborts on a bad setting, a missing filter file or a second start.
   */
  tryStart(): bool {
    if (this.handle != 0) throw new Error("TestHost: already started");
    const handle = host.host_start(encodeFields(this.settings));
    check();
    this.handle = handle;
    return this.startError.length == 0;
  }

  /** As `tryStart`, but aborts the test with the start error when the plugin did not start. */
  start(): TestHost {
    if (!this.tryStart()) throw new Error(this.startError);
    return this;
  }

  private get id(): i32 {
    if (this.handle == 0) throw new Error("TestHost: call start() first");
    return this.handle;
  }

  /** Why the plugin did not start ("" when it did); aborts before start. */
  get startError(): string {
    const error = host.host_start_error(this.id);
    check();
    return error;
  }

  /** The log lines so far. */
  get logs(): Logs {
    return new Logs(this.id);
  }

  /** A new HTTP stream; `properties` apply to it only. Aborts when the plugin did not start. */
  http(properties: Properties = new Properties()): HttpStream {
    const stream = host.stream_new(this.id, properties.encode());
    check();
    return new HttpStream(stream);
  }

  /** A new TCP connection (call `newConnection()` first); `properties` apply to it only. */
  tcp(properties: Properties = new Properties()): TcpConnection {
    const connection = host.tcp_new(this.id, properties.encode());
    check();
    return new TcpConnection(connection);
  }

  /**
   * Starts another plugin configuration on this host's VM (root context 2, 3, ...). Aborts with
   * the start error when the plugin rejects its configuration, or when the VM has failed.
   */
  addPlugin(name: string = "", rootId: string = "", pluginConfig: string = "", properties: Properties = new Properties()): Plugin {
    const plugin = host.plugin_add(this.id, name, rootId, pluginConfig, properties.encode());
    check();
    return new Plugin(plugin);
  }

  /** The root context id of the first plugin (1). */
  get rootContextId(): u32 {
    const id = host.host_root_context_id(this.id);
    check();
    return id;
  }

  /**
   * Plays one request `iterations` times (after 3 warm-up rounds): `request` headers (and body),
   * the upstream's `response` if the request reaches it, then completion. Aborts when stream
   * contexts stay alive or linear memory grew by more than 64 KiB; returns the growth in bytes.
   */
  leakCheck(iterations: i32, request: Headers, requestBody: string = "", response: Headers = Headers.of([[":status", "200"]]), responseBody: string = ""): i64 {
    const growth = host.host_leak_check(this.id, iterations, request.encode(), requestBody, response.encode(), responseBody);
    check();
    return growth;
  }

  /** The trace lines so far (start-up included); aborts unless the host was set up with `trace()`. */
  traceLines(): string[] {
    const text = host.host_trace_lines(this.id);
    check();
    return decodeFields(text);
  }

  /** Forgets the trace lines so far (e.g. those of start-up); aborts like `traceLines`. */
  clearTrace(): void {
    host.host_clear_trace(this.id);
    check();
  }

  /** gRPC calls and streams not settled yet, oldest first. */
  pendingGrpcCalls(): GrpcCall[] {
    const text = host.grpc_pending_tokens(this.id);
    check();
    const tokens = decodeFields(text);
    const calls = new Array<GrpcCall>();
    for (let i = 0; i < tokens.length; i++) calls.push(new GrpcCall(this.id, U32.parseInt(tokens[i])));
    return calls;
  }

  /**
   * Changes Envoy's wasm log level of the running host, as Envoy's admin `/logging?wasm=<level>`
   * does: the filter sees it at its next `proxy_get_log_level`. Aborts on an unknown level.
   */
  setLogLevel(level: string): void {
    host.host_set_log_level(this.id, level);
    check();
  }

  /** Moves the fake clock forward, firing the ticks that fall due. */
  advanceTime(ms: i64): void {
    host.host_advance_time(this.id, ms);
    check();
  }

  /** Delivers posted queue notifications (`proxy_on_queue_ready`); returns how many ran. */
  flushQueues(): i32 {
    const ran = host.host_flush_queues(this.id);
    check();
    return ran;
  }

  /** True when the plugin defined metric `name`. */
  hasMetric(name: string): bool {
    const found = host.host_has_metric(this.id, name);
    check();
    return found != 0;
  }

  /** The value of metric `name`; aborts when it was never defined. */
  metric(name: string): i64 {
    const value = host.host_metric(this.id, name);
    check();
    return value;
  }

  hasSharedData(key: string): bool {
    const found = host.host_has_shared_data(this.id, key);
    check();
    return found != 0;
  }

  /** Shared data under `key` (this VM's vm_id), UTF-8 decoded; aborts when absent. */
  sharedData(key: string): string {
    const value = host.host_shared_data(this.id, key);
    check();
    return value;
  }

  /** HTTP callouts not answered yet, oldest first. */
  pendingHttpCallouts(): HttpCallout[] {
    const text = host.callouts_pending_tokens(this.id);
    check();
    const tokens = decodeFields(text);
    const callouts = new Array<HttpCallout>();
    for (let i = 0; i < tokens.length; i++) callouts.push(new HttpCallout(this.id, U32.parseInt(tokens[i])));
    return callouts;
  }

  /** The VM's failure report (trap, abort message, backtrace), or "" while it is healthy. */
  get failure(): string {
    const report = host.host_failure(this.id);
    check();
    return report;
  }

  /** Removes the plugin (`proxy_on_done`, ...); true when the root context is gone. */
  shutdown(): bool {
    const done = host.host_shutdown(this.id);
    check();
    return done != 0;
  }
}
