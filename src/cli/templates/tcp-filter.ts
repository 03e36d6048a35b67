/** The starting point of a network (TCP) filter project: a filter that works, its as-pect spec and its Node test. */
export function tcpFilterSource(name: string): string {
  return `// ${name}: a network filter. It counts the bytes each connection sends and logs the total on close.
import { RootContext, TcpContext, FilterStatus, PeerType, registerRoot, log } from "proxy-wasm-as/assembly";
import { greeting } from "./greeting";

// The ABI callbacks, the allocator and the ABI version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

class Root extends RootContext {
  createTcpContext(contextId: u32): TcpContext {
    return new Connection(contextId, this);
  }
}

class Connection extends TcpContext {
  received: u64 = 0;

  onNewConnection(): FilterStatus {
    log.info(greeting("${name}") + ": new connection");
    return FilterStatus.Continue;
  }

  onDownstreamData(dataSize: u32, endOfStream: bool): FilterStatus {
    this.received += dataSize;
    return FilterStatus.Continue;
  }

  onDownstreamConnectionClose(peer: PeerType): void {
    log.info("connection closed after " + this.received.toString() + " bytes");
  }
}

registerRoot("", (contextId: u32): RootContext => new Root(contextId));
`;
}

/** The as-pect spec that plays a connection through the built filter in the host. */
export function tcpFilterSpec(name: string): string {
  return `// Plays a connection through the built filter (build/${name}.wasm) in proxy-wasm-as's host, the one
// the dev proxy and the Node test kit use. as-pect.config.js links it (withProxyWasmHost).
import { TestHost, TcpStatus } from "proxy-wasm-as/assembly/testing";

describe("${name} in the host", () => {
  it("passes data through and logs the byte count on close", () => {
    const host = new TestHost().pluginName("${name}").start();
    const connection = host.tcp();
    expect(connection.newConnection()).toBe(TcpStatus.Continue);
    expect(host.logs.contains("hello from ${name}: new connection", "info")).toBe(true);
    expect(connection.downstreamData("hello")).toBe(TcpStatus.Continue);
    expect(connection.downstreamData(" world")).toBe(TcpStatus.Continue);
    connection.close();
    expect(connection.upstream).toBe("hello world");
    expect(connection.finished).toBe(true);
    expect(host.logs.lines()).toIncludeEqual("wasm log ${name}: connection closed after 11 bytes");
  });
});
`;
}

export function tcpFilterTest(name: string): string {
  return `import assert from "node:assert/strict";
import { test } from "node:test";
import { createTestHost } from "proxy-wasm-as/testing";

const wasm = new URL("../build/${name}.wasm", import.meta.url);

test("passes data through and logs the byte count on close", () => {
  const host = createTestHost({ wasm, pluginName: "${name}" });
  const connection = host.tcp();
  connection.newConnection();
  connection.downstreamData("hello");
  connection.downstreamData(" world");
  connection.close("remote");
  assert.equal(connection.upstream, "hello world");
  assert.ok(host.logs.lines.includes("wasm log ${name}: connection closed after 11 bytes"), host.logs.lines.join("\\n"));
});
`;
}
