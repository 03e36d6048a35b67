/**
 * Setting the per-stream buffer limit: the short format's `buffer_limit_bytes`, the Envoy
 * bootstrap's listener `per_connection_buffer_limit_bytes` (a UInt32Value, default 1 MiB:
 * envoy source/common/listener_manager/listener_impl.cc), and `run --buffer-limit-bytes`. A
 * cluster's `per_connection_buffer_limit_bytes` bounds only its upstream connections in Envoy, so
 * it is checked and reported as ignored. Bad values are refused naming the field.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { main } from "../../src/cli/main";
import { defaultConfig } from "../../src/proxy/config/dev-proxy-config";
import { loadConfigFile } from "../../src/proxy/config/load-config-file";
import { captureIo as captureIoIn } from "../cli/cli-test-io";
import { http1Request, startTestProxy } from "./proxy-test-helpers";

const HTTP_BODY = new URL("../../examples/http_body/build/http_body.wasm", import.meta.url).pathname;

const dir = mkdtempSync(join(tmpdir(), "pwas-buffer-limit-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const file = (text: string): string => {
  const path = join(dir, `config-${counter++}.yaml`);
  writeFileSync(path, text);
  return path;
};

function bootstrap(listenerExtra: string, clusterExtra = ""): string {
  return `
static_resources:
  listeners:
  - name: main
    address:
      socket_address: { address: 127.0.0.1, port_value: 10000 }
${listenerExtra}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: backend }
          http_filters:
          - name: envoy.filters.http.router
  clusters:
  - name: backend
${clusterExtra}
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: 8080 }
`;
}

describe("buffer limit: configuration", () => {
  it("defaults to Envoy's 1 MiB", () => {
    assert.equal(defaultConfig().bufferLimitBytes, 1048576);
    assert.equal(loadConfigFile(file("listen: 10000")).config.bufferLimitBytes, 1048576);
    assert.equal(loadConfigFile(file(bootstrap(""))).config.bufferLimitBytes, 1048576);
  });

  it("the short format's buffer_limit_bytes, 0 turning it off", () => {
    const { config, warnings } = loadConfigFile(file("buffer_limit_bytes: 65536"));
    assert.equal(config.bufferLimitBytes, 65536);
    assert.deepEqual(warnings, []);
    assert.equal(loadConfigFile(file("buffer_limit_bytes: 0")).config.bufferLimitBytes, 0);
    assert.equal(loadConfigFile(file("buffer_limit_bytes: 4294967295")).config.bufferLimitBytes, 4294967295);
  });

  it("the bootstrap's listener per_connection_buffer_limit_bytes (a number or a decimal string, as proto JSON allows)", () => {
    const { config, warnings } = loadConfigFile(file(bootstrap("    per_connection_buffer_limit_bytes: 32768")));
    assert.equal(config.bufferLimitBytes, 32768);
    assert.deepEqual(warnings, []);
    assert.equal(loadConfigFile(file(bootstrap('    per_connection_buffer_limit_bytes: "4096"'))).config.bufferLimitBytes, 4096);
  });

  it("a cluster's per_connection_buffer_limit_bytes is checked, then reported as not the filters' limit", () => {
    const { config, warnings } = loadConfigFile(file(bootstrap("", "    per_connection_buffer_limit_bytes: 2048")));
    assert.equal(config.bufferLimitBytes, 1048576);
    assert.deepEqual(warnings, [
      "static_resources.clusters[0]: per_connection_buffer_limit_bytes: only bounds the upstream connection's buffers in Envoy (flow control, not modelled by the dev proxy); the filters' buffer limit is the listener's; ignored",
    ]);
  });

  const refusedEverywhere = (value: string): void => {
    const range = `expected a whole number of bytes from 0 (no limit) to 4294967295, got ${value}`;
    assert.throws(() => loadConfigFile(file(`buffer_limit_bytes: ${value}`)), { name: "ConfigError", message: `buffer_limit_bytes: ${range}` });
    assert.throws(() => loadConfigFile(file(bootstrap(`    per_connection_buffer_limit_bytes: ${value}`))), {
      name: "ConfigError",
      message: `static_resources.listeners[0].per_connection_buffer_limit_bytes: ${range}`,
    });
    assert.throws(() => loadConfigFile(file(bootstrap("", `    per_connection_buffer_limit_bytes: ${value}`))), {
      name: "ConfigError",
      message: `static_resources.clusters[0].per_connection_buffer_limit_bytes: ${range}`,
    });
  };
  it("refuses -1 naming the field, in each place", () => refusedEverywhere("-1"));
  it("refuses 1.5 naming the field, in each place", () => refusedEverywhere("1.5"));
  it("refuses 4294967296 naming the field, in each place", () => refusedEverywhere("4294967296"));

  it("refuses a value that is not a number naming the field", () => {
    assert.throws(() => loadConfigFile(file("buffer_limit_bytes: lots")), { name: "ConfigError", message: 'buffer_limit_bytes: expected a number, got "lots"' });
    assert.throws(() => loadConfigFile(file(bootstrap("    per_connection_buffer_limit_bytes: [1]"))), {
      name: "ConfigError",
      message: "static_resources.listeners[0].per_connection_buffer_limit_bytes: expected a number, got a list",
    });
  });
});

/** POSTs `sent` of an announced `length` bytes on a raw socket; resolves with all the proxy wrote until it closed. */
function halfSentRequest(url: string, length: number, sent: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(url).port), "127.0.0.1");
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the proxy did not close the connection; got ${JSON.stringify(text)}`));
    }, 30_000);
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (text += chunk));
    socket.on("end", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    });
    socket.on("error", reject);
    socket.write(`POST / HTTP/1.1\r\nhost: proxy\r\ncontent-length: ${length}\r\n\r\n${"x".repeat(sent)}`);
  });
}

describe("buffer limit: the admin's /config_dump", () => {
  it("shows a listener limit other than the default as per_connection_buffer_limit_bytes", async () => {
    const listenerOf = async (bufferLimitBytes: number): Promise<Record<string, unknown>> => {
      const { proxy } = await startTestProxy([], (config) => (config.bufferLimitBytes = bufferLimitBytes));
      try {
        const dump = await (await fetch(`${proxy.adminUrl}/config_dump`)).json();
        const listeners = dump.configs.find((entry: { "@type": string }) => entry["@type"].endsWith("ListenersConfigDump")).static_listeners;
        return listeners[0].listener as Record<string, unknown>;
      } finally {
        await proxy.close();
      }
    };
    assert.equal((await listenerOf(4096)).per_connection_buffer_limit_bytes, 4096);
    assert.equal("per_connection_buffer_limit_bytes" in (await listenerOf(1048576)), false);
  });
});

describe("buffer limit: run --buffer-limit-bytes", () => {
  it("sets the limit: 32 bytes of a 64-byte body to a buffering filter with --buffer-limit-bytes 16 get 413", async () => {
    const cli = captureIoIn(dir);
    const exit = main(["run", "--listen", "127.0.0.1:0", "--admin", "off", "--wasm", HTTP_BODY, "--buffer-limit-bytes", "16", "--log-level", "error"], cli.io);
    try {
      await Promise.race([cli.ready, exit.then((code) => assert.fail(`run exited early with ${code}: ${cli.out.stderr}`))]);
      const url = cli.info().url as string;
      // Half the announced body: the filter sees it without end of stream and buffers it.
      const over = await halfSentRequest(url, 64, 32);
      assert.match(over, /^HTTP\/1\.1 413 Payload Too Large\r\n/);
      assert.match(over, /\r\n\r\nPayload Too Large$/);
      const under = await http1Request(`${url}/`, { method: "POST", headers: { "content-length": "16" }, body: ["x".repeat(16)] });
      assert.equal(under.status, 200);
    } finally {
      cli.stop();
      assert.equal(await exit, 0);
    }
  });

  const usageError = async (value: string, message: string): Promise<void> => {
    const cli = captureIoIn(dir);
    assert.equal(await main(["run", "--listen", "127.0.0.1:0", "--admin", "off", `--buffer-limit-bytes=${value}`], cli.io), 2);
    assert.equal(cli.out.stderr.split("\n")[0], `error: ${message}`);
  };
  it("refuses -5 as a usage error (exit 2)", () => usageError("-5", '--buffer-limit-bytes expects a whole number, got "-5"'));
  it("refuses 1e3 as a usage error (exit 2)", () => usageError("1e3", '--buffer-limit-bytes expects a whole number, got "1e3"'));
  it("refuses 4294967296 as a usage error (exit 2)", () =>
    usageError("4294967296", "--buffer-limit-bytes: at most 4294967295 (Envoy's UInt32Value), got 4294967296"));
});
