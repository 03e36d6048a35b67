// TCP connections from AssemblyScript: examples/network (bytes both ways, host properties, the
// counter) and examples/envoy_tcp_routing (per-connection source address: string, bytes, absent).
import { TestHost, Properties, TcpConnection, TcpStatus } from "proxy-wasm-as/assembly/testing";

const REQUEST = "GET / HTTP/1.1\r\nHost: localhost\r\nThis-Is-Key: this-is-value\r\nConnection: close\r\n\r\n";
const RESPONSE = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";

function upstreamProperties(): Properties {
  const location = ["xds", "cluster_metadata", "filter_metadata", "location"];
  return new Properties()
    .string(["upstream", "address"], "127.0.0.1:8099")
    .string(location.concat(["region"]), "ap-northeast-1")
    .string(location.concat(["cloud_provider"]), "aws")
    .string(location.concat(["az"]), "ap-northeast-1a");
}

function networkHost(): TestHost {
  return new TestHost("network").properties(upstreamProperties()).start();
}

function source(address: string): Properties {
  return new Properties().string(["source", "address"], address);
}

let closedConnection: TcpConnection = new TcpConnection(0);

describe("network: a whole connection", () => {
  it("logs every step in order, passes the bytes through and counts the connection", () => {
    const host = networkHost();
    expect(host.metric("proxy_wasm_as.connection_counter")).toBe(0);
    const connection = host.tcp();
    expect(connection.contextId).toBe(0);
    expect(connection.newConnection()).toBe(TcpStatus.Continue);
    expect(connection.contextId).toBe(2);
    expect(connection.downstreamData(REQUEST)).toBe(TcpStatus.Continue);
    expect(connection.upstreamData(RESPONSE)).toBe(TcpStatus.Continue);
    expect(connection.finished).toBe(false);
    connection.close();
    expect(connection.finished).toBe(true);
    expect(connection.closedByHost).toBe(false);
    expect(connection.upstream).toBe(REQUEST);
    expect(connection.downstream).toBe(RESPONSE);
    const info = host.logs.messages("info");
    expect(info.length).toBe(9);
    expect(info[0]).toBe("new connection!");
    expect(info[1]).toBe(">>>>>> downstream data received >>>>>>\n" + REQUEST);
    expect(info[2]).toBe("remote address: 127.0.0.1:8099");
    expect(info[3]).toBe("upstream cluster metadata location[region]=ap-northeast-1");
    expect(info[4]).toBe("upstream cluster metadata location[cloud_provider]=aws");
    expect(info[5]).toBe("upstream cluster metadata location[az]=ap-northeast-1a");
    expect(info[6]).toBe("<<<<<< upstream data received <<<<<<\n" + RESPONSE);
    expect(info[7]).toBe("downstream connection close!");
    expect(info[8]).toBe("connection complete!");
    expect(host.logs.count("warn")).toBe(0);
    expect(host.metric("proxy_wasm_as.connection_counter")).toBe(1);
  });

  it("bytes that are not UTF-8 reach the other side unchanged", () => {
    const host = networkHost();
    const connection = host.tcp();
    connection.newConnection();
    const data = new Uint8Array(4);
    data[0] = 0xff; data[1] = 0x00; data[2] = 0x80; data[3] = 0x41;
    expect(connection.downstreamDataBytes(data.buffer)).toBe(TcpStatus.Continue);
    const got = Uint8Array.wrap(connection.upstreamBytes);
    expect(got.length).toBe(4);
    expect(got[0]).toBe(0xff);
    expect(got[1]).toBe(0x00);
    expect(got[2]).toBe(0x80);
    expect(got[3]).toBe(0x41);
    expect(connection.downstreamBytes.byteLength).toBe(0);
  });

  it("per-connection properties override the host's: one host, two upstream addresses", () => {
    const host = networkHost();
    const a = host.tcp(new Properties().string(["upstream", "address"], "10.0.0.2:443"));
    a.newConnection();
    a.upstreamData("pong");
    const b = host.tcp();
    b.newConnection();
    b.upstreamData("pong");
    expect(host.logs.contains("remote address: 10.0.0.2:443", "info")).toBe(true);
    expect(host.logs.contains("remote address: 127.0.0.1:8099", "info")).toBe(true);
  });

  it("without the upstream properties the filter warns and the data still passes", () => {
    const host = new TestHost("network").start();
    const connection = host.tcp();
    connection.newConnection();
    expect(connection.upstreamData("pong")).toBe(TcpStatus.Continue);
    expect(connection.downstream).toBe("pong");
    const warn = host.logs.messages("warn");
    expect(warn.length).toBe(2);
    expect(warn[0]).toBe("failed to get upstream address: WasmResult 1");
    expect(warn[1]).toBe("failed to get upstream cluster metadata location: WasmResult 1");
  });

  it("the proxy closing the connection (local) finishes it and completes the context", () => {
    const host = networkHost();
    closedConnection = host.tcp();
    closedConnection.newConnection();
    closedConnection.close(false);
    expect(closedConnection.finished).toBe(true);
    expect(host.logs.contains("connection complete!", "info")).toBe(true);
  });
});

describe("envoy_tcp_routing: the source address of each connection", () => {
  it("routes by the per-connection source address", () => {
    const host = new TestHost("envoy_tcp_routing").start();
    const first = host.tcp(source("192.168.1.10"));
    expect(first.newConnection()).toBe(TcpStatus.Continue);
    const second = host.tcp(source("172.21.0.11:58762"));
    expect(second.newConnection()).toBe(TcpStatus.Continue);
    const info = host.logs.messages("info");
    expect(info.length).toBe(2);
    expect(info[0]).toBe("[TCP WASM] Routed source 192.168.1.10 to egress-router1");
    expect(info[1]).toBe("[TCP WASM] Routed source 172.21.0.11:58762 to egress-router2");
  });

  it("a bytes address that is not UTF-8, and an absent one, are warned about", () => {
    const host = new TestHost("envoy_tcp_routing").start();
    const bad = new Uint8Array(3);
    bad[0] = 0x31; bad[1] = 0x2e; bad[2] = 0xff;
    host.tcp(new Properties().bytes(["source", "address"], bad.buffer)).newConnection();
    host.tcp(new Properties().absent(["source"])).newConnection();
    const warn = host.logs.messages("warn");
    expect(warn.length).toBe(2);
    expect(warn[0]).toBe("[TCP WASM] Source address is not valid UTF-8");
    expect(warn[1]).toBe("[TCP WASM] Missing source address property");
    expect(host.logs.count("info")).toBe(0);
  });
});
