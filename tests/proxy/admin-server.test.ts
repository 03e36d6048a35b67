import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { http1Request, startTestProxy, until } from "./proxy-test-helpers";

describe("admin endpoint", () => {
  let proxy: Awaited<ReturnType<typeof startTestProxy>>["proxy"];
  before(async () => {
    ({ proxy } = await startTestProxy());
    proxy.stats.addSource(() => [
      { name: "wasmcustom.add_header.hits", kind: "counter", value: 3 },
      { name: "wasmcustom.inflight", kind: "gauge", value: 2 },
    ]);
    await http1Request(`${proxy.url}/`);
    // The request says `connection: close` (no agent): the proxy closes after the answer; wait for that.
    const destroyed = () => proxy.stats.snapshot().find((s) => s.name === "http.ingress_http.downstream_cx_destroy")?.value;
    await until(() => destroyed() === 1, "the connection close to be counted");
  });
  after(() => proxy.close());

  it("/ready answers LIVE", async () => {
    const response = await fetch(`${proxy.adminUrl}/ready`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "LIVE\n");
  });

  it("/stats lists proxy and filter stats, sorted, as `name: value`", async () => {
    const text = await (await fetch(`${proxy.adminUrl}/stats`)).text();
    assert.equal(
      text,
      [
        "cluster.upstream.upstream_rq_2xx: 1",
        "cluster.upstream.upstream_rq_total: 1",
        "http.ingress_http.downstream_cx_destroy: 1",
        "http.ingress_http.downstream_cx_destroy_local: 1",
        "http.ingress_http.downstream_cx_total: 1",
        "http.ingress_http.downstream_rq_2xx: 1",
        "http.ingress_http.downstream_rq_total: 1",
        "wasmcustom.add_header.hits: 3",
        "wasmcustom.inflight: 2",
        "",
      ].join("\n"),
    );
    const filtered = await (await fetch(`${proxy.adminUrl}/stats?filter=wasmcustom`)).text();
    assert.equal(filtered, "wasmcustom.add_header.hits: 3\nwasmcustom.inflight: 2\n");
    const bad = await fetch(`${proxy.adminUrl}/stats?filter=(`);
    assert.equal(bad.status, 400);
  });

  it("/stats/prometheus names filter metrics without prefix and proxy stats as Envoy does", async () => {
    const text = await (await fetch(`${proxy.adminUrl}/stats/prometheus`)).text();
    assert.match(text, /^# TYPE add_header_hits counter\nadd_header_hits\{\} 3$/m);
    assert.match(text, /^# TYPE inflight gauge\ninflight\{\} 2$/m);
    assert.match(text, /^envoy_cluster_upstream_rq_total\{envoy_cluster_name="upstream"\} 1$/m);
    assert.match(text, /^envoy_http_downstream_rq_total\{envoy_http_conn_manager_prefix="ingress_http"\} 1$/m);
  });

  it("/logging changes the level on POST, refuses GET changes and unknown levels", async () => {
    const listed = await fetch(`${proxy.adminUrl}/logging`);
    assert.equal(listed.status, 200);
    assert.match(await listed.text(), /^ {2}wasm: info$/m);
    const viaGet = await fetch(`${proxy.adminUrl}/logging?level=debug`);
    assert.equal(viaGet.status, 405);
    assert.equal(proxy.logger.level, "info");
    const bad = await fetch(`${proxy.adminUrl}/logging?level=loud`, { method: "POST" });
    assert.equal(bad.status, 400);
    assert.equal(proxy.logger.level, "info");
    const changed = await fetch(`${proxy.adminUrl}/logging?paths=wasm:debug`, { method: "POST" });
    assert.equal(changed.status, 200);
    assert.match(await changed.text(), /^ {2}wasm: debug$/m);
    assert.equal(proxy.logger.level, "debug");
  });

  it("answers 404 for unknown paths", async () => {
    const response = await fetch(`${proxy.adminUrl}/config_dump`);
    assert.equal(response.status, 404);
  });
});
