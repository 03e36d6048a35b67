import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { defaultConfig } from "../../src/proxy/config/dev-proxy-config";
import { clusterFromUrl } from "../../src/proxy/config/load-config-file";
import { startDevProxy } from "../../src/proxy/dev-proxy";
import { buildWasmFilters } from "../../src/proxy/filters/wasm-filters";
import { ProxyLogger } from "../../src/proxy/proxy-logger";
import { http1Request, LogCapture, until } from "./proxy-test-helpers";
import { GRPC_STREAM_FILTER } from "./wat-filters";

const dir = mkdtempSync(join(tmpdir(), "pwas-grpc-stream-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const frame = (text: string): Buffer => {
  const out = Buffer.alloc(5 + text.length);
  out.writeUInt32BE(text.length, 1);
  out.write(text, 5);
  return out;
};

describe("gRPC streams over real HTTP/2", () => {
  it("later sends and the half-close reach the server; metadata, messages and status come back", async () => {
    let answer: "ok" | "not_found" | "trailers_only" = "ok";
    const seen: string[] = [];
    const server = createServer();
    server.on("stream", (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      // Answering only after END_STREAM proves the half-close arrived.
      stream.on("end", () => {
        seen.push(`${headers[":path"]} ${headers["content-type"]} te=${headers.te} body=${Buffer.concat(chunks).toString("hex")}`);
        if (answer === "trailers_only") {
          stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "7", "grpc-message": "go%20away" }, { endStream: true });
          return;
        }
        stream.respond({ ":status": 200, "content-type": "application/grpc", "x-initial": "1" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers(answer === "ok" ? { "grpc-status": "0", "x-trailing": "1" } : { "grpc-status": "5", "grpc-message": "missing" }));
        stream.write(frame("x"));
        // The second message split across two DATA frames: the client must reassemble it.
        const second = frame("yz");
        stream.write(second.subarray(0, 3));
        stream.end(second.subarray(3));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const wasmPath = join(dir, "grpc-stream.wasm");
    writeFileSync(wasmPath, GRPC_STREAM_FILTER);
    const config = defaultConfig();
    config.listener.port = 0;
    config.admin = null;
    const cluster = clusterFromUrl("grpc", `http://127.0.0.1:${(server.address() as AddressInfo).port}`, "test");
    cluster.http2 = true;
    config.clusters.push(cluster);
    config.filters = [
      { name: "chat", rootId: "", vmId: "", wasmPath, pluginConfiguration: Buffer.alloc(0), vmConfiguration: Buffer.alloc(0), failurePolicy: "FAIL_CLOSED", allowOnHeadersStopIteration: false },
    ];
    const logs = new LogCapture();
    const proxy = await startDevProxy(config, { logger: new ProxyLogger({ output: logs, colour: false }), buildFilters: buildWasmFilters });
    const wasmLines = (): string[] => logs.lines.filter((line) => line.includes("wasm log")).map((line) => line.slice(line.indexOf("wasm log")));
    try {
      const ok = await http1Request(`${proxy.url}/`);
      assert.equal(ok.status, 200);
      await until(() => wasmLines().length === 4, "4 wasm log lines");
      assert.deepEqual(wasmLines(), ["wasm log: initial", "wasm log: x", "wasm log: yz", "wasm log: trailing"]);
      assert.deepEqual(seen, ["/pkg.Chat/Talk application/grpc te=trailers body=" + Buffer.concat([frame("a"), frame("bc")]).toString("hex")]);

      answer = "not_found";
      assert.equal((await http1Request(`${proxy.url}/`)).status, 205);
      answer = "trailers_only";
      logs.lines.length = 0;
      assert.equal((await http1Request(`${proxy.url}/`)).status, 207);
      // A trailers-only answer has no initial metadata and no messages.
      assert.deepEqual(wasmLines(), []);
    } finally {
      await proxy.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
