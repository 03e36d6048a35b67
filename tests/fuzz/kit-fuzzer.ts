/**
 * Test-kit mode of the fuzzer: the fuzz filter on test hosts (src/testing), driven through random
 * flows: hostile request and response headers, bodies in random chunks, trailers, early ends,
 * HTTP and gRPC callouts answered, failed or left pending, ticks, queue pushes, TCP connections,
 * further plugins on the same VM and plugin shutdown.
 *
 * Every session is one test host (in some sessions with a second VM sharing its process, to cross
 * shared data and queues between VMs) whose seeds derive from (run seed, session index), so a
 * finding replays with `--seed S --session N`. A session ends at its first finding:
 * - host exception: a JS error thrown out of a test-kit call (the filter never traps, so nothing
 *   the host does may throw);
 * - disabled filter: the VM failed (any VM failure: the filter cannot trap by itself);
 * - hang: a stream or connection whose context is still alive after the stream ended; in a fair
 *   session (the filter returns only Continue) a stream whose request and response were played
 *   whole but whose client got neither a complete answer nor a reset; or a single step that did
 *   not return within the step limit.
 */
import { createTestHost, type HttpStreamHandle, type PluginHandle, type TcpConnectionHandle, type TestHost } from "../../src/testing";
import type { FailurePolicy, GrpcCallout, HeadersInit, Vm } from "../../src/host";
import { HeaderMap } from "../../src/host";
import { fuzzFilterWasm } from "./fuzz-filter";
import { FuzzTotals, Rng, sessionSeed, type FindingKind } from "./fuzz-report";

export interface KitFuzzOptions {
  readonly seed: number;
  /** Stop after about this many hostcalls. */
  readonly hostcalls: number;
  /** Run only this session (replay). */
  readonly session?: number;
  /** Hostcalls per callback (the filter's `c<n>`); default 8. */
  readonly callsPerCallback?: number;
  /** A step (one test-kit call) that has not returned after this long counts as a hang. */
  readonly stepLimitMs?: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** Steps per session before the host is shut down and a fresh one started. */
const STEPS_PER_SESSION = 40;

class SessionEnded extends Error {}

/** Where a stream or connection is opened: the session's host, a host sharing its process, or a further plugin on its VM. */
interface StreamTarget {
  readonly label: string;
  readonly vm: Vm;
  http(): HttpStreamHandle;
  tcp(): TcpConnectionHandle;
}

/** Runs test-kit sessions until the hostcall budget is spent; returns the totals. */
export async function fuzzKit(options: KitFuzzOptions): Promise<FuzzTotals> {
  const wasm = await fuzzFilterWasm();
  const totals = new FuzzTotals(options.seed);
  const first = options.session ?? 0;
  const last = options.session ?? Number.MAX_SAFE_INTEGER;
  for (let session = first; session <= last && totals.hostcalls < options.hostcalls; session++) {
    new KitSession(wasm, options, session, totals).run();
    if (options.log !== undefined && session % 50 === 49) options.log(totals.summary());
  }
  return totals;
}

class KitSession {
  private readonly rng: Rng;
  private host!: TestHost;
  /** A second VM in the same process (shared data, queues, clock and callouts), in some sessions. */
  private peer: TestHost | null = null;
  private readonly plugins: PluginHandle[] = [];
  /** The filter's last few hostcalls, newest last. */
  private readonly lastHostcalls: string[] = [];
  private lastCallback = "";
  private step = "create the test host";
  private streamCount = 0;
  private readonly stepLimitMs: number;
  private readonly hostile: boolean;
  /** The filter returns only Continue, so every stream played whole must be answered. */
  private readonly fair: boolean;
  private readonly policy: FailurePolicy;

  constructor(
    private readonly wasm: Uint8Array,
    private readonly options: KitFuzzOptions,
    private readonly session: number,
    private readonly totals: FuzzTotals,
  ) {
    this.rng = new Rng(sessionSeed(options.seed, session));
    this.stepLimitMs = options.stepLimitMs ?? 30_000;
    this.hostile = this.rng.chance(0.35);
    this.fair = this.rng.chance(0.3);
    this.policy = this.rng.pick(["fail_closed", "fail_open", "fail_reload"] as const);
  }

  private config(): string {
    return `${this.rng.below(1e9)}${this.hostile ? "h" : ""}${this.fair ? "f" : ""}c${this.options.callsPerCallback ?? 8}`;
  }

  private createHost(shareProcessWith: TestHost | undefined, vmId: string): TestHost {
    let created: TestHost | undefined;
    created = createTestHost({
      wasm: this.wasm,
      pluginConfig: this.config(),
      vmConfig: this.rng.chance(0.5) ? "" : this.rng.hostileBytes(this.rng.below(64)),
      vmId,
      clusters: ["callout", "grpc", "upstream"],
      logLevel: this.rng.pick(["trace", "info", "critical"] as const),
      failurePolicy: this.policy,
      reloadBackoffMs: 10,
      shareProcessWith,
      // A quarter of the sessions run the module instrumented for the callback time limit, as
      // the dev proxy does; no callback of the filter comes near it.
      callbackTimeLimitMs: this.rng.chance(0.25) ? 10_000 : 0,
      onHostcall: (module, name, args) => {
        this.totals.hostcalls++;
        if (this.lastHostcalls.length === 4) this.lastHostcalls.shift();
        this.lastHostcalls.push(`${module}.${name}(${args.map((a) => (typeof a === "bigint" ? BigInt.asUintN(64, a) : Number(a) >>> 0)).join(", ")})`);
        this.lastCallback = `${created?.vm.currentCallback ?? "(start)"}${created === this.peer && created !== null ? " (peer VM)" : ""}`;
      },
    });
    return created;
  }

  run(): void {
    try {
      this.guard(() => (this.host = this.createHost(undefined, "")));
      if (this.rng.chance(0.2)) {
        // Same vm_id: the two VMs share data and queues; another vm_id: each its own partition.
        this.guard(() => ((this.step = "create a peer host"), (this.peer = this.createHost(this.host, this.rng.chance(0.5) ? "" : "peer"))));
      }
      for (let i = 0; i < STEPS_PER_SESSION; i++) this.randomStep(i);
      this.guard(() => {
        this.step = "shut the plugins down";
        for (const plugin of this.plugins) plugin.shutdown();
        this.peer?.shutdown();
        this.host.shutdown();
        this.host.advanceTime(1000);
        this.host.flushQueues();
      });
    } catch (error) {
      if (!(error instanceof SessionEnded)) throw error;
    }
  }

  private finding(kind: FindingKind, detail: string): never {
    this.totals.record({
      kind,
      mode: "kit",
      seed: this.options.seed,
      session: this.session,
      step: this.step,
      detail,
      callback: this.lastCallback || undefined,
      lastHostcall: this.lastHostcalls.length > 0 ? [...this.lastHostcalls].reverse().join(" <- ") : undefined,
    });
    throw new SessionEnded();
  }

  /** Runs one test-kit call; classifies what went wrong. */
  private guard<T>(action: () => T): T {
    const started = Date.now();
    let result: T;
    try {
      result = action();
    } catch (error) {
      if (error instanceof SessionEnded) throw error;
      const failure = this.host?.failure ?? this.peer?.failure;
      if (failure != null) this.finding("disabled filter", failure);
      this.finding("host exception", (error as Error)?.stack ?? String(error));
    }
    if (this.host?.failure != null) this.finding("disabled filter", this.host.failure);
    if (this.peer?.failure != null) this.finding("disabled filter", `(peer VM) ${this.peer.failure}`);
    if (Date.now() - started > this.stepLimitMs) this.finding("hang", `one step ran ${Date.now() - started} ms`);
    return result;
  }

  private randomStep(index: number): void {
    const r = this.rng.below(100);
    if (r < 45) this.httpStream(index);
    else if (r < 55) this.tcpConnection(index);
    else if (r < 70) this.answerCallouts(index);
    else if (r < 78) this.guard(() => ((this.step = `step ${index}: advance time`), this.host.advanceTime(this.rng.pick([0, 1, 10, 999, 1000, 60_000]))));
    else if (r < 85) this.pushQueues(index);
    else if (r < 90) this.guard(() => ((this.step = `step ${index}: flush queues`), this.host.flushQueues()));
    else if (r < 95) this.addPlugin(index);
    else this.shutdownPlugin(index);
  }

  // ---------------------------------------------------------------- HTTP

  private headers(kind: "request" | "response" | "trailers"): HeadersInit {
    const rows: [Uint8Array | string, Uint8Array | string][] = [];
    if (kind === "request" && this.rng.chance(0.9)) {
      rows.push([":method", this.rng.pick(["GET", "POST", "PUT", "CONNECT", "GE T", ""])]);
      rows.push([":path", this.rng.chance(0.8) ? "/fuzz" : this.rng.hostileBytes(this.rng.below(40))]);
      rows.push([":authority", this.rng.pick(["example.com", "", "a b"])]);
      rows.push([":scheme", "http"]);
      if (this.rng.chance(0.2)) rows.push(["content-type", "application/grpc"]);
    }
    if (kind === "response" && this.rng.chance(0.9)) rows.push([":status", this.rng.pick(["200", "204", "404", "503", "999", "abc", ""])]);
    const extra = this.rng.below(6);
    for (let i = 0; i < extra; i++) {
      const name = this.rng.chance(0.5) ? this.rng.pick(["x-fuzz", "content-length", "transfer-encoding", "host", "cookie", "te", "grpc-status"]) : this.rng.hostileBytes(1 + this.rng.below(20));
      const value = this.rng.chance(0.1) ? this.rng.hostileBytes(4000 + this.rng.below(70_000)) : this.rng.hostileBytes(this.rng.below(60));
      rows.push([name, value]);
    }
    return rows;
  }

  private body(): Uint8Array {
    const size = this.rng.chance(0.05) ? this.rng.below(300_000) : this.rng.below(2000);
    return this.rng.hostileBytes(size);
  }

  /** The session's host most of the time, else a further plugin or the peer host. */
  private target(): StreamTarget {
    const others: StreamTarget[] = this.plugins.map((plugin) => ({ label: ` of plugin ${plugin.rootContextId}`, vm: this.host.vm, http: () => plugin.http(), tcp: () => plugin.tcp() }));
    const peer = this.peer;
    if (peer !== null) others.push({ label: " of the peer VM", vm: peer.vm, http: () => peer.http(), tcp: () => peer.tcp() });
    if (others.length > 0 && this.rng.chance(0.35)) return this.rng.pick(others);
    const host = this.host;
    return { label: "", vm: host.vm, http: () => host.http(), tcp: () => host.tcp() };
  }

  private httpStream(index: number): void {
    const target = this.target();
    const label = `step ${index}: http stream #${this.streamCount}${target.label}`;
    this.streamCount++;
    this.totals.streams++;
    const stream: HttpStreamHandle = this.guard(() => ((this.step = `${label}: create`), target.http()));
    const over = () => stream.localResponse !== null || stream.resetDetails !== null;
    const requestBodies = this.rng.below(4);
    const requestTrailers = this.rng.chance(0.2);
    const endEarly = this.rng.chance(0.15) ? this.rng.below(6) : -1;
    let frame = 0;
    const play = (what: string, action: () => unknown) => {
      if (frame++ === endEarly || over()) return false;
      this.guard(() => ((this.step = `${label}: ${what}`), action()));
      return true;
    };
    let go = play(`request headers end_of_stream=${requestBodies === 0 && !requestTrailers ? 1 : 0}`, () =>
      stream.requestHeaders(this.headers("request"), { endOfStream: requestBodies === 0 && !requestTrailers }),
    );
    for (let i = 0; go && i < requestBodies; i++) {
      const chunk = this.body();
      const end = i === requestBodies - 1 && !requestTrailers;
      go = play(`request body ${chunk.length} bytes end_of_stream=${end ? 1 : 0}`, () => stream.requestBody(chunk, { endOfStream: end }));
    }
    if (go && requestTrailers) go = play("request trailers", () => stream.requestTrailers(this.headers("trailers")));
    if (go && stream.upstream.headers !== null) {
      const responseBodies = this.rng.below(4);
      const responseTrailers = this.rng.chance(0.2);
      go = play("response headers", () => stream.responseHeaders(this.headers("response"), { endOfStream: responseBodies === 0 && !responseTrailers }));
      for (let i = 0; go && i < responseBodies; i++) {
        const chunk = this.body();
        const end = i === responseBodies - 1 && !responseTrailers;
        go = play(`response body ${chunk.length} bytes end_of_stream=${end ? 1 : 0}`, () => stream.responseBody(chunk, { endOfStream: end }));
      }
      if (go && responseTrailers) play("response trailers", () => stream.responseTrailers(this.headers("trailers")));
    }
    if (this.fair && endEarly < 0 && !stream.downstream.ended && stream.resetDetails === null) {
      const reply = stream.localResponse;
      this.finding("hang", `the client got ${stream.downstream.headers === null ? "no response headers" : "an unfinished response"} and no reset, though the filter only continued${reply ? ` (local reply ${reply.status} "${reply.details}" pending)` : ""}`);
    }
    // Callouts, ticks and queues may land while the stream is still open.
    if (this.rng.chance(0.3)) this.answerCallouts(index);
    this.guard(() => ((this.step = `${label}: complete`), stream.complete()));
    const id = stream.contextId;
    if (id !== 0 && target.vm.contexts.has(id)) this.finding("hang", `stream context ${id} is still alive after the stream completed`);
  }

  // ---------------------------------------------------------------- TCP

  private tcpConnection(index: number): void {
    const target = this.target();
    const label = `step ${index}: tcp connection #${this.streamCount}${target.label}`;
    this.streamCount++;
    this.totals.streams++;
    const connection = this.guard(() => ((this.step = `${label}: create`), target.tcp()));
    this.guard(() => ((this.step = `${label}: new connection`), connection.newConnection()));
    const frames = this.rng.below(5);
    for (let i = 0; i < frames && !connection.finished; i++) {
      const data = this.body();
      const end = this.rng.chance(0.2);
      if (this.rng.chance(0.5)) this.guard(() => ((this.step = `${label}: downstream data ${data.length} bytes end_of_stream=${end ? 1 : 0}`), connection.downstreamData(data, { endOfStream: end })));
      else this.guard(() => ((this.step = `${label}: upstream data ${data.length} bytes end_of_stream=${end ? 1 : 0}`), connection.upstreamData(data, { endOfStream: end })));
    }
    const peer = this.rng.chance(0.5) ? "local" : "remote";
    this.guard(() => ((this.step = `${label}: close (${peer})`), connection.close(peer)));
    const id = connection.contextId;
    if (id !== 0 && target.vm.contexts.has(id)) this.finding("hang", `connection context ${id} is still alive after the connection closed`);
  }

  // ---------------------------------------------------------------- callouts, queues, plugins

  private answerCallouts(index: number): void {
    for (const callout of this.host.callouts.pendingHttp) {
      const r = this.rng.below(4);
      if (r === 3) continue; // left pending (answered later, or never)
      this.guard(() => {
        this.step = `step ${index}: http callout ${callout.token} ${r === 0 ? "fails" : "answered"}`;
        if (r === 0) callout.fail();
        else callout.respond({ headers: this.headers("response"), body: this.body(), trailers: this.rng.chance(0.3) ? this.headers("trailers") : undefined });
      });
    }
    for (const call of this.host.callouts.pendingGrpc) {
      if (this.rng.chance(0.25)) continue;
      this.guard(() => this.grpcEvent(index, call));
    }
  }

  private grpcEvent(index: number, call: GrpcCallout): void {
    const r = this.rng.below(5);
    this.step = `step ${index}: grpc ${call.kind} ${call.token} event ${r}`;
    const metadata = () => HeaderMap.from(this.headers("trailers"));
    if (call.kind === "grpc-stream" && r === 0) call.receiveInitialMetadata(metadata());
    else if (call.kind === "grpc-stream" && r === 1) call.receiveTrailingMetadata(metadata());
    else if (r <= 2) call.receive(this.body());
    else call.close(this.rng.pick([0, 1, 2, 4, 14, 16, 17, 255]), this.rng.chance(0.5) ? "fuzz" : "");
  }

  private pushQueues(index: number): void {
    this.guard(() => {
      this.step = `step ${index}: enqueue from the host`;
      const queues = this.host.process.queues;
      for (const vmId of new Set([this.host.vm.vmId, this.peer?.vm.vmId ?? ""])) {
        for (const name of ["q", "queue"]) {
          const token = queues.resolve(vmId, name);
          if (token !== undefined) queues.enqueue(token, this.rng.hostileBytes(this.rng.below(100)));
        }
      }
    });
  }

  private addPlugin(index: number): void {
    if (this.host.vm.failed || this.plugins.length >= 4) return;
    const plugin = this.guard(() => ((this.step = `step ${index}: add a plugin`), this.host.addPlugin({ name: `p${this.plugins.length}`, pluginConfig: this.config() })));
    this.plugins.push(plugin);
  }

  private shutdownPlugin(index: number): void {
    if (this.plugins.length === 0) return;
    const plugin = this.plugins.splice(this.rng.below(this.plugins.length), 1)[0];
    this.guard(() => ((this.step = `step ${index}: shut plugin ${plugin.rootContextId} down`), plugin.shutdown()));
  }
}
