/**
 * Dev-proxy mode of the fuzzer: the dev proxy runs in a child process (`proxy-wasm-as run`, so a
 * crash is seen as a process death) with the fuzz filter in fair mode in front of a loopback
 * upstream, which also serves as the callout clusters. Real clients send random requests: HTTP/1.1
 * with random methods, paths, headers, chunked or sized bodies and aborts; h2c streams with random
 * headers, bodies and RST_STREAM; raw sockets with garbage, partial requests and resets.
 *
 * Findings:
 * - process death: the child exited;
 * - hang: a request neither answered nor reset within its deadline (the filter is fair: it only
 *   returns Continue, so nothing it does may hold a request);
 * - disabled filter: the proxy logged a VM failure (`Function: ... failed:`), or a clean request at
 *   the end did not run the filter (its hostcall gauge did not move) or was not answered;
 * - host exception: anything else the proxy wrote at error level about a host-side error
 *   (`TypeError`, `RangeError`, uncaught exceptions), and Node's process warnings
 *   (`TimeoutOverflowWarning`: a timer that fires every millisecond instead of never).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import { connect as http2Connect, createServer as createHttp2Server, constants as h2, type Http2Server } from "node:http2";
import { connect as netConnect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fuzzFilterWasm } from "./fuzz-filter";
import { FuzzTotals, Rng, sessionSeed, type FindingKind } from "./fuzz-report";

export interface ProxyFuzzOptions {
  readonly seed: number;
  /** Stop after about this many hostcalls (read from the filter's gauge) or `requests`, whichever first. */
  readonly hostcalls: number;
  readonly requests?: number;
  /** Replay one request index only. */
  readonly session?: number;
  /** Requests in flight at once. */
  readonly concurrency?: number;
  /** A request neither answered nor reset after this long is a hang (default 15 s). */
  readonly requestDeadlineMs?: number;
  readonly callsPerCallback?: number;
  /** The dev proxy's `--concurrency`: 1 runs the filter on the listener's thread, more in worker threads. */
  readonly workers?: number;
  readonly log?: (line: string) => void;
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Upstreams {
  http: Server;
  grpc: Http2Server;
  httpUrl: string;
  grpcUrl: string;
  close(): Promise<void>;
}

/** The loopback upstream (answers every request; size and status from the path) and an h2c gRPC server. */
async function startUpstreams(): Promise<Upstreams> {
  const http = createServer((req, res) => {
    req.on("error", () => {});
    res.on("error", () => {});
    req.resume();
    req.on("end", () => {
      const n = Number(/\d+/.exec(req.url ?? "")?.[0] ?? 0);
      const body = "u".repeat(n % 3000);
      if (n % 7 === 3) res.addTrailers({ "x-trailer": "t" });
      res.writeHead([200, 204, 404, 500, 503][n % 5], { "x-upstream": "1" });
      res.end(n % 5 === 1 ? undefined : body);
    });
  });
  http.on("clientError", (_error, socket) => socket.destroy());
  const grpc = createHttp2Server();
  grpc.on("stream", (stream) => {
    stream.on("error", () => {});
    stream.resume();
    stream.on("end", () => {
      if (stream.destroyed) return;
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(Buffer.from([0, 0, 0, 0, 1, 0x61]));
    });
  });
  grpc.on("sessionError", () => {});
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => grpc.listen(0, "127.0.0.1", resolve));
  return {
    http,
    grpc,
    httpUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    grpcUrl: `http://127.0.0.1:${(grpc.address() as AddressInfo).port}`,
    close: async () => {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
      await new Promise((resolve) => grpc.close(resolve));
    },
  };
}

/** The dev proxy in a child process; resolves once it printed its address. */
class ProxyChild {
  readonly child: ChildProcess;
  url = "";
  adminUrl = "";
  exited: { code: number | null; signal: string | null } | null = null;
  private stderrTail = "";
  /** The last request sent through this child, for the report. */
  lastStep = { index: -1, step: "start" };
  judged = false;
  /** Error-level lines that report a failed VM or a host error, each kind of line once, with the last request sent when it came. */
  readonly problems: { kind: FindingKind; line: string; step: { index: number; step: string } }[] = [];
  private readonly seenProblems = new Set<string>();

  constructor(wasmPath: string, config: string, upstreams: Upstreams, workers: number) {
    this.child = spawn(
      process.execPath,
      [
        join(ROOT, "bin/proxy-wasm-as.js"),
        "run",
        "-w", wasmPath,
        "--plugin-config", config,
        "--listen", "127.0.0.1:0",
        "--admin", "127.0.0.1:0",
        "--upstream", upstreams.httpUrl,
        "--cluster", `callout=${upstreams.httpUrl}`,
        "--cluster", `grpc=h2c+${upstreams.grpcUrl}`,
        "--route-timeout", "5000",
        "--log-level", "error",
        "--concurrency", String(workers),
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child.on("exit", (code, signal) => (this.exited = { code, signal }));
    let pending = "";
    this.child.stderr!.setEncoding("utf8");
    this.child.stderr!.on("data", (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-8000);
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) this.inspect(line);
    });
  }

  private inspect(line: string): void {
    let kind: FindingKind | null = null;
    if (/Function: \S+ failed:/.test(line)) kind = "disabled filter";
    else if (/TypeError|RangeError|ReferenceError|Uncaught|unhandled|ERR_[A-Z_]+/.test(line) && !/wasm log/.test(line)) kind = "host exception";
    // Node's own warnings are host bugs too: e.g. a TimeoutOverflowWarning is a timer that fires
    // every millisecond instead of (nearly) never.
    else if (/^\(node:\d+\) \w+Warning/.test(line)) kind = "host exception";
    if (kind === null || this.problems.length >= 500) return;
    // The same fault logs the same line again and again (with other numbers, times, bytes): count it once.
    const key = line.replace(/^\[[^\]]*\]/, "").replace(/\[".*"\]/, "").replace(/\d+/g, "#");
    if (this.seenProblems.has(key)) return;
    this.seenProblems.add(key);
    this.problems.push({ kind, line, step: this.lastStep });
  }

  /** The end of stderr without the filter's own log lines and Node's warning boilerplate: the crash itself. */
  get crashLines(): string {
    return this.stderrTail
      .split("\n")
      .filter((line) => line.trim() !== "" && !/wasm log|Warning|Timeout duration was set|--trace-warnings|^\s*\^?\s*$/.test(line) && /[ -~]{8}/.test(line))
      .slice(-20)
      .join("\n");
  }

  get tail(): string {
    return this.stderrTail.split("\n").slice(-25).join("\n");
  }

  async ready(timeoutMs = 60_000): Promise<void> {
    const stdout = this.child.stdout!;
    stdout.setEncoding("utf8");
    let text = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the dev proxy did not start within ${timeoutMs} ms:\n${this.tail}`)), timeoutMs);
      stdout.on("data", (chunk: string) => {
        text += chunk;
        const match = /listening on (\S+)(?: \(admin (\S+)\))?/.exec(text);
        if (match) {
          clearTimeout(timer);
          this.url = match[1];
          this.adminUrl = match[2] ?? "";
          resolve();
        }
      });
      this.child.on("exit", () => {
        clearTimeout(timer);
        reject(new Error(`the dev proxy exited before it listened:\n${this.tail}`));
      });
    });
  }

  async stop(): Promise<void> {
    if (this.exited !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * The hostcall gauge the fuzz filter keeps: 0 when the admin does not show it yet, null when the
 * admin did not answer (the proxy is gone).
 */
async function hostcallGauge(adminUrl: string): Promise<number | null> {
  const response = await simpleGet(`${adminUrl}/stats?filter=fuzz_hostcalls`, 10_000);
  if (response === null) return null;
  const match = /fuzz_hostcalls: (\d+)/.exec(response.body);
  return match ? Number(match[1]) : 0;
}

function simpleGet(url: string, timeoutMs: number): Promise<{ status: number; body: string } | null> {
  return cleanGet(url, timeoutMs).then((answer) => (typeof answer === "string" ? null : answer));
}

/** A GET that says how it ended: the answer, "reset" (the proxy closed or reset it) or "timeout". */
function cleanGet(url: string, timeoutMs: number): Promise<{ status: number; body: string } | "reset" | "timeout"> {
  return new Promise((resolve) => {
    let timedOut = false;
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("latin1");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", () => resolve(timedOut ? "timeout" : "reset"));
    });
    req.on("timeout", () => {
      timedOut = true;
      req.destroy();
    });
    req.on("error", () => resolve(timedOut ? "timeout" : "reset"));
    req.end();
  });
}

/** What one client request ended with. */
type Outcome = "answered" | "reset" | "aborted by client" | "hang";

/** Runs the dev-proxy mode; returns the totals. */
export async function fuzzProxy(options: ProxyFuzzOptions): Promise<FuzzTotals> {
  const totals = new FuzzTotals(options.seed);
  const dir = mkdtempSync(join(tmpdir(), "pwas-fuzz-"));
  const wasmPath = join(dir, "fuzz.wasm");
  writeFileSync(wasmPath, await fuzzFilterWasm());
  const upstreams = await startUpstreams();
  const configRng = new Rng(sessionSeed(options.seed, -1));
  // Fair always (see the header); the hostile allocator for every other seed.
  const config = `${configRng.below(1e9)}f${options.seed % 2 === 1 ? "h" : ""}c${options.callsPerCallback ?? 8}`;
  const deadline = options.requestDeadlineMs ?? 15_000;
  const concurrency = options.concurrency ?? 8;
  const maxRequests = options.requests ?? Number.MAX_SAFE_INTEGER;
  let proxy = new ProxyChild(wasmPath, config, upstreams, options.workers ?? 1);
  let lastGauge = 0;
  let gaugeBase = 0;
  const record = (kind: FindingKind, session: number, step: string, detail: string) =>
    totals.record({ kind, mode: "proxy", seed: options.seed, session, step, detail, callback: undefined, lastHostcall: undefined });
  try {
    await proxy.ready();
    let next = options.session ?? 0;
    const last = options.session ?? maxRequests - 1;
    const worker = async () => {
      while (next <= last && totals.hostcalls < options.hostcalls) {
        if (proxy.exited !== null) return;
        const index = next++;
        const rng = new Rng(sessionSeed(options.seed, index));
        const problemsBefore = proxy.problems.length;
        proxy.lastStep = { index, step: `request ${index}` };
        const { outcome, step, seen } = await oneRequest(proxy.url, rng, index, deadline);
        totals.streams++;
        if (outcome === "hang") {
          // With requests in flight at once, a problem logged meanwhile may belong to another one.
          const meanwhile = proxy.problems.slice(problemsBefore).map((p) => `logged meanwhile: ${p.line.slice(0, 300)}`);
          record("hang", index, step, [`no answer and no reset within ${deadline} ms; the client ${seen.slice(0, 6).join(", ")}`, ...meanwhile].join("\n"));
        }
        if (proxy.exited !== null) return;
        proxy.lastStep = { index, step };
        if (index % 10 === 9) {
          lastGauge = Math.max(lastGauge, (await hostcallGauge(proxy.adminUrl)) ?? 0);
          totals.hostcalls = gaugeBase + lastGauge;
          if (index % 500 === 499) options.log?.(totals.summary());
        }
      }
    };
    // What a child logged is judged once its life is over: the error lines of a crash belong to
    // the process death, not to separate host exceptions.
    const judge = (child: ProxyChild) => {
      if (child.judged) return;
      child.judged = true;
      const { index, step } = child.lastStep;
      if (child.exited !== null) {
        record("process death", index, `${step} (or another request in flight)`, `the dev proxy exited (${JSON.stringify(child.exited)}):\n${child.crashLines}`);
        return;
      }
      for (const problem of child.problems) record(problem.kind, problem.step.index, `${problem.step.step} (or another request in flight)`, problem.line);
    };
    while (true) {
      await Promise.all(Array.from({ length: concurrency }, worker));
      if (proxy.exited === null) break;
      judge(proxy);
      if (totals.processDeaths >= 3 || next > last || totals.hostcalls >= options.hostcalls) break;
      gaugeBase += lastGauge;
      lastGauge = 0;
      proxy = new ProxyChild(wasmPath, config, upstreams, options.workers ?? 1);
      await proxy.ready();
    }
    if (proxy.exited === null) {
      // The filter must still run: a clean request is answered and moves the hostcall gauge.
      const before = (await hostcallGauge(proxy.adminUrl)) ?? 0;
      // The filter's random hostcalls run on this request too, so a reset (proxy_close_stream, a
      // response header Node cannot write) is a legitimate end; only silence is a hang. A spoiled
      // :status is no reset: it gets Envoy's 502, an answer.
      const answer = await cleanGet(`${proxy.url}/clean-check`, deadline);
      const after = (await hostcallGauge(proxy.adminUrl)) ?? 0;
      lastGauge = Math.max(lastGauge, after);
      const ended = typeof answer === "string" ? answer : `status ${answer.status}`;
      if (answer === "timeout") record("hang", -1, "clean request at the end", `the clean request got no answer within ${deadline} ms\n${proxy.tail}`);
      else if (after <= before) record("disabled filter", -1, "clean request at the end", `the filter did not run (gauge ${before} -> ${after}); ${ended}\n${proxy.tail}`);
    }
    judge(proxy);
    totals.hostcalls = gaugeBase + lastGauge;
  } finally {
    await proxy.stop();
    await upstreams.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return totals;
}

// ------------------------------------------------------------------------ clients

const METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"];

function randomPath(rng: Rng, index: number): string {
  const tail = rng.chance(0.3) ? `/${encodeURIComponent(Buffer.from(rng.hostileBytes(rng.below(30))).toString("latin1"))}` : "";
  return `/r${index}${tail}${rng.chance(0.2) ? "?q=%ff%00&x" : ""}`;
}

/** Header values a real client can send (visible ASCII, SP, HTAB, obs-text). */
function clientValue(rng: Rng, max: number): string {
  let text = "";
  const n = rng.below(max);
  for (let i = 0; i < n; i++) text += rng.chance(0.1) ? String.fromCharCode(0x80 + rng.below(128)) : String.fromCharCode(0x21 + rng.below(94));
  return text;
}

function clientHeaders(rng: Rng): Record<string, string> {
  const headers: Record<string, string> = {};
  const n = rng.below(6);
  for (let i = 0; i < n; i++) headers[`x-f${rng.below(20)}`] = clientValue(rng, rng.chance(0.05) ? 8000 : 40);
  if (rng.chance(0.1)) headers["content-type"] = "application/grpc";
  if (rng.chance(0.05)) headers.te = "trailers";
  return headers;
}

/** One random request; `seen` says what the client sent and got (for the report of a hang). */
export async function oneRequest(url: string, rng: Rng, index: number, deadline: number): Promise<{ outcome: Outcome; step: string; seen: string[] }> {
  const r = rng.below(100);
  const seen: string[] = [];
  if (r < 60) return { outcome: await http1Request(url, rng, index, deadline, seen), step: `request ${index}: HTTP/1.1`, seen };
  if (r < 85) return { outcome: await h2cRequest(url, rng, index, deadline, seen), step: `request ${index}: h2c`, seen };
  return { outcome: await rawSocket(url, rng, index, deadline, seen), step: `request ${index}: raw socket`, seen };
}

function http1Request(url: string, rng: Rng, index: number, deadline: number, seen: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      done("hang");
      req.destroy();
    }, deadline);
    const chunks = rng.below(4);
    const chunked = rng.chance(0.5);
    const bodies = Array.from({ length: chunks }, () => Buffer.from(rng.hostileBytes(rng.chance(0.05) ? rng.below(200_000) : rng.below(3000))));
    const headers = clientHeaders(rng);
    if (!chunked && chunks > 0) headers["content-length"] = String(bodies.reduce((n, b) => n + b.length, 0));
    const abortAt = rng.chance(0.15) ? rng.below(chunks + 2) : -1;
    let req: ReturnType<typeof request>;
    try {
      const method = rng.pick(METHODS);
      seen.push(`sent ${method}, ${chunks} body chunks (${chunked ? "chunked" : "sized"})${abortAt >= 0 ? `, abort before chunk ${abortAt}` : ""}`);
      req = request(`${url}${randomPath(rng, index)}`, { method, headers, agent: false }, (res: IncomingMessage) => {
        seen.push(`got status ${res.statusCode}`);
        res.on("data", (chunk: Buffer) => seen.push(`got ${chunk.length} body bytes`));
        res.on("end", () => done("answered"));
        res.on("error", () => done("reset"));
        res.on("aborted", () => done("reset"));
      });
    } catch {
      clearTimeout(timer);
      resolve("aborted by client");
      return;
    }
    req.on("information", (info) => seen.push(`got informational ${info.statusCode}`));
    req.on("error", () => done("reset"));
    req.on("close", () => setImmediate(() => done("reset")));
    let i = 0;
    const writeNext = () => {
      if (settled || req.destroyed) return;
      if (i === abortAt) {
        done("aborted by client");
        req.destroy();
        return;
      }
      if (i < bodies.length) {
        req.write(bodies[i++]);
        setTimeout(writeNext, rng.below(3));
      } else req.end();
    };
    writeNext();
  });
}

function h2cRequest(url: string, rng: Rng, index: number, deadline: number, seen: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const session = http2Connect(url);
    const done = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done("hang"), deadline);
    session.on("error", () => done("reset"));
    const headers: Record<string, string> = { ":method": rng.pick(METHODS), ":path": randomPath(rng, index), ...clientHeaders(rng) };
    delete headers.te;
    let stream: ReturnType<typeof session.request>;
    const endStream = rng.chance(0.3);
    const trailers = !endStream && rng.chance(0.2);
    try {
      stream = session.request(headers, { endStream, waitForTrailers: trailers });
    } catch {
      done("aborted by client");
      return;
    }
    seen.push(`sent ${headers[":method"]} end_stream=${endStream} trailers=${trailers}`);
    stream.on("response", (response) => seen.push(`got status ${response[":status"]}`));
    stream.on("headers", (info) => seen.push(`got informational ${info[":status"]}`));
    stream.on("wantTrailers", () => stream.sendTrailers({ "x-client-trailer": clientValue(rng, 20) || "t" }));
    stream.on("data", (chunk: Buffer) => seen.push(`got ${chunk.length} body bytes`));
    stream.on("end", () => done("answered"));
    stream.on("error", () => done("reset"));
    stream.on("close", () => setImmediate(() => done(stream.rstCode === h2.NGHTTP2_NO_ERROR ? "answered" : "reset")));
    if (endStream) return;
    const chunks = rng.below(4);
    const rstAt = rng.chance(0.15) ? rng.below(chunks + 1) : -1;
    let i = 0;
    const writeNext = () => {
      if (settled || stream.destroyed) return;
      if (i === rstAt) {
        done("aborted by client");
        return;
      }
      if (i < chunks) {
        i++;
        stream.write(Buffer.from(rng.hostileBytes(rng.below(4000))));
        setTimeout(writeNext, rng.below(3));
      } else stream.end();
    };
    writeNext();
  });
}

/** Raw bytes: a request with hostile bytes, a partial request, garbage, h2 preface garbage; then end or reset. */
function rawSocket(url: string, rng: Rng, index: number, deadline: number, seen: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = netConnect(Number(port), hostname);
    let settled = false;
    const done = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done("hang"), deadline);
    const kind = rng.below(6);
    const hostile = Buffer.from(rng.hostileBytes(rng.below(60))).toString("latin1");
    const texts = [
      `GET /r${index} HTTP/1.1\r\nhost: x\r\nx-raw: ${hostile}\r\n\r\n`,
      `POST /r${index} HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n${rng.pick(["5\r\nhello\r\n0\r\n\r\n", "zz\r\n", "3\r\nab", "0\r\nx-t: 1\r\n\r\n"])}`,
      `GET /r${index} HTTP/1.1\r\nhost: x\r\ncontent-length: ${rng.pick(["1", "-1", "99999999999", "1, 2", "abc"])}\r\n\r\nab`,
      `GET /r${index} HTTP/1.1\r\nho`,
      hostile,
      `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n${hostile}`,
    ];
    // 0: half-close and wait, 1: reset at once, 2: keep the socket open until the answer (only
    // for complete requests: a partial one may legitimately wait for its missing bytes)
    const endMode = kind === 0 || kind === 5 ? rng.below(3) : rng.below(2);
    socket.on("error", () => done(settled ? "reset" : "reset"));
    socket.on("close", () => done("answered"));
    socket.on("data", (chunk: Buffer) => {
      seen.push(`got ${JSON.stringify(chunk.subarray(0, 40).toString("latin1"))}`);
      if (endMode === 2) done("answered");
    });
    socket.on("connect", () => {
      seen.push(`sent ${JSON.stringify(texts[kind].slice(0, 60))} then ${["half-close", "reset", "wait"][endMode]}`);
      socket.write(texts[kind], "latin1");
      if (endMode === 1) {
        socket.resetAndDestroy();
        done("aborted by client");
      } else if (endMode === 0) socket.end();
    });
  });
}
