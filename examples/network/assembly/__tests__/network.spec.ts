// network in the host, from AssemblyScript (examples/as-pect.config.js links it).
import { TestHost, Properties, TcpStatus } from "proxy-wasm-as/assembly/testing";

const COUNTER = "proxy_wasm_as.connection_counter";

describe("network", () => {
  it("passes bytes both ways, logs them and counts the finished connection", () => {
    const host = new TestHost("network").properties(new Properties().string(["upstream", "address"], "10.1.2.3:80")).start();
    expect(host.metric(COUNTER)).toBe(0);
    const connection = host.tcp();
    expect(connection.newConnection()).toBe(TcpStatus.Continue);
    expect(connection.downstreamData("ping")).toBe(TcpStatus.Continue);
    expect(connection.upstreamData("pong")).toBe(TcpStatus.Continue);
    expect(connection.upstream).toBe("ping");
    expect(connection.downstream).toBe("pong");
    expect(host.logs.contains(">>>>>> downstream data received >>>>>>\nping", "info")).toBe(true);
    expect(host.logs.contains("remote address: 10.1.2.3:80", "info")).toBe(true);
    expect(host.logs.contains("<<<<<< upstream data received <<<<<<\npong", "info")).toBe(true);
    expect(host.metric(COUNTER)).toBe(0);
    connection.close();
    expect(host.logs.contains("downstream connection close!", "info")).toBe(true);
    expect(host.logs.contains("connection complete!", "info")).toBe(true);
    expect(host.metric(COUNTER)).toBe(1);
  });

  it("warns when the upstream address and the cluster's location are missing", () => {
    const host = new TestHost("network").start();
    const connection = host.tcp();
    connection.newConnection();
    connection.upstreamData("pong");
    expect(host.logs.contains("failed to get upstream address: WasmResult 1", "warn")).toBe(true);
    expect(host.logs.includes("failed to get upstream cluster metadata location", "warn")).toBe(true);
    expect(connection.downstream).toBe("pong");
  });
});
