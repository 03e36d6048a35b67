// Issue #15: `bootstrap_extensions` with `envoy.bootstrap.wasm` (a wasm service: a root context
// with ticks, shared data and queues, and no traffic). Bootstraps follow Envoy's docs,
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/wasm/v3/wasm.proto#extensions-wasm-v3-wasmservice
// and the shared_queue example's README (whose Envoy config this is, merge keys included).
// Envoy: source/extensions/bootstrap/wasm/config.cc (singleton on the main thread, otherwise
// one per worker).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { refusedBootstrap, runBootstrap } from "./bootstrap-run";
import { http1Request, until } from "./proxy-test-helpers";

const RECEIVER_SERVICE = (singleton: boolean) => `
bootstrap_extensions:
- name: envoy.bootstrap.wasm
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.wasm.v3.WasmService
    singleton: ${singleton}
    config: &receiver
      name: http_request_headers
      root_id: receiver
      configuration: { "@type": type.googleapis.com/google.protobuf.StringValue, value: http_request_headers }
      vm_config:
        vm_id: receiver
        runtime: envoy.wasm.runtime.v8
        code: { local: { filename: ./examples/shared_queue/build/shared_queue.wasm } }
- name: envoy.bootstrap.wasm
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.wasm.v3.WasmService
    singleton: ${singleton}
    config:
      <<: *receiver
      name: http_response_headers
      configuration: { "@type": type.googleapis.com/google.protobuf.StringValue, value: http_response_headers }
`;

const LISTENER = `
static_resources:
  listeners:
  - name: http_sender
    address:
      socket_address: { address: 127.0.0.1, port_value: 0 }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          codec_type: AUTO
          route_config:
            virtual_hosts:
            - name: local
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                direct_response: { status: 200, body: { inline_string: "example body\\n" } }
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: http
                root_id: sender
                configuration: { "@type": type.googleapis.com/google.protobuf.StringValue, value: http }
                vm_config:
                  vm_id: sender
                  runtime: envoy.wasm.runtime.v8
                  code: { local: { filename: ./examples/shared_queue/build/shared_queue.wasm } }
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 0 }
`;

/** The lines of `stderr` that contain `text`. */
const linesWith = (stderr: string, text: string) => stderr.split("\n").filter((line) => line.includes(text));

describe("bootstrap: envoy.bootstrap.wasm services", () => {
  for (const [concurrency, singleton] of [["1", true], ["2", true], ["2", false]] as const) {
    it(`the receiver services drain the queues the HTTP filter fills (singleton: ${singleton}, --concurrency ${concurrency})`, async () => {
      const run = await runBootstrap(RECEIVER_SERVICE(singleton) + LISTENER, ["--concurrency", concurrency]);
      try {
        const perService = singleton ? 1 : 2;
        await until(() => linesWith(run.stderr(), "registered as queueID").length === 2 * perService, "the services to register their queues");
        for (const queue of ["http_request_headers", "http_response_headers"]) {
          // A root context's log prefix is `<root_id> <vm_id>` (cpp-host makeRootLogPrefix).
          const registered = linesWith(run.stderr(), `wasm log receiver receiver: queue "${queue}" registered as queueID=`);
          assert.equal(registered.length, perService, run.stderr());
        }
        const response = await http1Request(`${run.url}/`, { headers: { "x-probe": "service-test" } });
        assert.equal(response.status, 200);
        assert.equal(response.body, "example body\n");
        await until(() => linesWith(run.stderr(), '{"key": "x-probe","value": "service-test"}').length === 2, "the probe header to be enqueued and dequeued");
        // With worker threads the two lines come from two workers: either may reach the log first.
        const probeLines = linesWith(run.stderr(), '{"key": "x-probe","value": "service-test"}');
        const enqueued = probeLines.find((line) => line.includes("enqueued data")) ?? "";
        const dequeued = probeLines.find((line) => line.includes("dequeued data")) ?? "";
        assert.match(enqueued, /\[info\]\[wasm\] \[context \d+\] wasm log http sender sender: enqueued data: \{"key": "x-probe","value": "service-test"\}$/);
        assert.match(dequeued, /\[info\]\[wasm\] \[context \d+\] wasm log receiver receiver: \(contextID=\d+\) dequeued data from http_request_headers\(queueID=\d+\): \{"key": "x-probe","value": "service-test"\}$/);
        await until(() => linesWith(run.stderr(), 'dequeued data from http_response_headers').some((line) => line.includes('{"key": ":status","value": "200"}')), "the response status to be dequeued");
        // Every worker's sender found the queues: the services had registered them first.
        assert.doesNotMatch(run.stderr(), /unsupported|makes no stream context|error resolving queue http_/, run.stderr());
      } finally {
        await run.stop();
      }
    });
  }

  it("a service's ticks run with no traffic at all", async () => {
    const tick = `
bootstrap_extensions:
- name: envoy.bootstrap.wasm
  typed_config:
    "@type": type.googleapis.com/udpa.type.v1.TypedStruct
    type_url: type.googleapis.com/envoy.extensions.wasm.v3.WasmService
    value:
      singleton: true
      config:
        name: ticker
        vm_config:
          runtime: envoy.wasm.runtime.v8
          code: { local: { filename: ./examples/foreign_call_on_tick/build/foreign_call_on_tick.wasm } }
`;
    const run = await runBootstrap(tick + LISTENER.replace(/          - name: envoy\.filters\.http\.wasm[\s\S]*?(?=          - name: envoy\.filters\.http\.router)/, ""));
    try {
      await until(() => linesWith(run.stderr(), "foreign function (compress) called: 3,").length === 1, "three ticks");
      const [first] = linesWith(run.stderr(), "foreign function (compress) called: 1,");
      assert.match(first, /\[info\]\[wasm\] \[context 1\] wasm log: foreign function \(compress\) called: 1, result: 789ccb48cdc9c95728cf2fca495104001e89047e$/);
    } finally {
      await run.stop();
    }
  });

  it("other bootstrap extensions are named in a warning; a wasm service without config is refused", async () => {
    const other = `
bootstrap_extensions:
- name: envoy.bootstrap.internal_listener
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener
`;
    const run = await runBootstrap(other + LISTENER);
    try {
      assert.match(run.stderr(), /unsupported: bootstrap_extensions\[0\]: bootstrap extension envoy\.bootstrap\.internal_listener is not supported by the dev proxy; ignored/);
    } finally {
      await run.stop();
    }
    const missing = `
bootstrap_extensions:
- name: envoy.bootstrap.wasm
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.wasm.v3.WasmService
    singleton: true
`;
    const { code, stderr } = await refusedBootstrap(missing + LISTENER);
    assert.equal(code, 1);
    assert.equal(stderr, "error: bootstrap_extensions[0].typed_config.config: missing PluginConfig\n");
  });
});
