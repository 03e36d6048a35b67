/**
 * Helpers for tests that run `proxy-wasm-as run -c <bootstrap>` in-process with TCP listeners:
 * the run itself, TCP upstreams and a raw TCP (or TLS) client that records what it saw.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect as connectTcp, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as connectTls, type ConnectionOptions } from "node:tls";
import { runBootstrapFile } from "./bootstrap-run";

export interface RunningProxy {
  /** Port of the TCP listener named `name`. */
  tcpPort(name: string): number;
  adminUrl: string | null;
  url: string;
  stderr(): string;
  /** The message part of every filter log line (`wasm log <plugin>: <message>`), in order. */
  wasmMessages(): string[];
  stop(): Promise<number>;
}

export const tempDir = (): string => mkdtempSync(join(tmpdir(), "pwas-tcp-"));

/** Writes `yaml` into `dir` and starts `run -c` on it (then `flags`) with `dir` as working directory; rejects with stderr if it exits instead. */
export async function runBootstrap(dir: string, yaml: string, name = "envoy.yaml", flags: string[] = []): Promise<RunningProxy> {
  const path = join(dir, name);
  writeFileSync(path, yaml);
  const run = await runBootstrapFile(path, flags, dir);
  return {
    tcpPort: (listener) => {
      const found = run.tcpListeners.find((entry) => entry.name === listener);
      if (found === undefined) throw new Error(`no TCP listener ${listener}`);
      return found.port;
    },
    adminUrl: run.adminUrl,
    url: run.url,
    stderr: run.stderr,
    wasmMessages: () => wasmMessagesOf(run.stderr()),
    stop: run.stop,
  };
}

/** Filter log messages in `stderr` (multi-line messages kept whole). */
export function wasmMessagesOf(stderr: string): string[] {
  const messages: string[] = [];
  // Each line ends with "\n"; a message may contain newlines (and end with one) itself.
  for (const entry of stderr.replace(/\n$/, "").split(/\n(?=\[\d{4}-)/)) {
    const match = /^\[[^\]]+\]\[[^\]]+\]\[[^\]]+\]\[wasm\] \[context \d+\] wasm log [^:]*: ([\s\S]*)$/.exec(entry);
    if (match) messages.push(match[1]);
  }
  return messages;
}

/** Polls `condition` every 20 ms for up to `ms` (generous: the machine is slow and shared). */
export async function eventually(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface TestServer {
  port: number;
  /** Bytes each accepted connection received, in order of acceptance. */
  received: string[];
  connections: number;
  close(): Promise<void>;
}

/** A TCP server on a free loopback port; `handle` gets each connection (its bytes are recorded). */
export async function startTcpServer(handle: (socket: Socket) => void): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const state = { received: [] as string[], connections: 0 };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const index = state.connections++;
    state.received[index] = "";
    socket.on("data", (chunk: Buffer) => (state.received[index] += chunk.toString("latin1")));
    handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    get received() {
      return state.received;
    },
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Echoes every byte and ends when the client ends. */
export const echo = (socket: Socket): void => {
  socket.pipe(socket);
};

export interface ClientResult {
  data: string;
  /** True when the proxy half-closed (FIN) before the connection closed. */
  gotEnd: boolean;
  /** True when the connection ended with an error (e.g. a reset). */
  hadError: boolean;
}

export interface ClientOptions {
  /** Written once connected. */
  send?: string;
  /** End (FIN) right after sending. */
  endAfterSend?: boolean;
  /**
   * End when the proxy ends (default true). A half-open client would never see the proxy's close
   * otherwise: after our FIN, the proxy's close is only visible when the client writes.
   */
  endOnEnd?: boolean;
  localAddress?: string;
  tls?: ConnectionOptions;
}

/** One client connection; resolves when it closed (bounded by a 15 s timer that destroys it). */
export function tcpClient(port: number, options: ClientOptions = {}): Promise<ClientResult> {
  return new Promise((resolve) => {
    const base = { host: "127.0.0.1", port, allowHalfOpen: true, localAddress: options.localAddress };
    const ready = () => {
      if (options.send !== undefined) socket.write(options.send);
      if (options.endAfterSend) socket.end();
    };
    const socket: Socket = options.tls ? connectTls({ ...base, ...options.tls } as ConnectionOptions, ready) : connectTcp(base, ready);
    const result: ClientResult = { data: "", gotEnd: false, hadError: false };
    const guard = setTimeout(() => socket.destroy(), 15_000);
    socket.on("data", (chunk: Buffer) => (result.data += chunk.toString("latin1")));
    socket.on("end", () => {
      result.gotEnd = true;
      if (options.endOnEnd ?? true) socket.end();
    });
    socket.on("error", () => (result.hadError = true));
    socket.on("close", () => {
      clearTimeout(guard);
      resolve(result);
    });
  });
}
