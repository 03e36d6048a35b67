import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect as connectH2 } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { main } from "../../src/cli/main";
import { compileAccessLogFormat, DEFAULT_ACCESS_LOG_FORMAT } from "../../src/proxy/access-log/access-log-format";
import { readAccessLogs } from "../../src/proxy/config/access-log-config";
import { ConfigReader } from "../../src/proxy/config/config-reader";
import { loadConfigFile } from "../../src/proxy/config/load-config-file";
import { captureIo } from "../cli/cli-test-io";
import { runBootstrapFile } from "./bootstrap-run";
import { http1Request, startTestProxy, startUpstream, until, useUpstream } from "./proxy-test-helpers";
import { localReplyFilter } from "./test-filters";

const dir = mkdtempSync(join(tmpdir(), "pwas-access-log-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const START = String.raw`\[\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\]`;

function readLines(path: string): string[] {
  try {
    return readFileSync(path, "utf8").split("\n").filter((line) => line !== "");
  } catch {
    return [];
  }
}

/** Waits until `path` has `count` lines (the file is written asynchronously, as Envoy's is). */
async function linesOf(path: string, count: number): Promise<string[]> {
  await until(() => readLines(path).length >= count, `${count} access log lines in ${path}`);
  return readLines(path);
}

describe("access log in Envoy's default format", () => {
  const path = join(dir, "default.log");
  let proxy: Awaited<ReturnType<typeof startTestProxy>>["proxy"];
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let upstreamPort: string;
  before(async () => {
    upstream = await startUpstream((req, res) => {
      req.resume();
      if (req.url === "/slow") return;
      req.on("end", () => res.end("hello"));
    });
    upstreamPort = new URL(upstream.url).port;
    ({ proxy } = await startTestProxy([], (config) => {
      useUpstream(upstream.url)(config);
      config.routes = [
        { prefix: "/slow", cluster: "upstream", timeoutMs: 200 },
        { prefix: "/api", cluster: "upstream", timeoutMs: 15_000 },
      ];
      config.accessLogs = [{ path, format: DEFAULT_ACCESS_LOG_FORMAT }];
    }));
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  it("writes one line per request: method, path, protocol, code, flags, bytes, duration, service time, headers, upstream host", async () => {
    const host = new URL(proxy.url).host;
    await http1Request(`${proxy.url}/api/items?q=1`, {
      method: "POST",
      headers: { "user-agent": "test-agent/1.0", "x-request-id": "req-1", "content-length": "4" },
      body: ["ping"],
    });
    const [line] = await linesOf(path, 1);
    assert.match(
      line,
      new RegExp(`^${START} "POST /api/items\\?q=1 HTTP/1\\.1" 200 - 4 5 \\d+ \\d+ "-" "test-agent/1\\.0" "req-1" "${host}" "127\\.0\\.0\\.1:${upstreamPort}"$`),
    );
  });

  it("names the router's failures with Envoy's response flags: NR for no route, UT for the route timeout", async () => {
    const before = readLines(path).length;
    assert.equal((await http1Request(`${proxy.url}/nowhere`, { headers: { "x-request-id": "req-2" } })).status, 404);
    assert.equal((await http1Request(`${proxy.url}/slow`, { headers: { "x-request-id": "req-3" } })).status, 504);
    const lines = (await linesOf(path, before + 2)).slice(before);
    assert.match(lines[0], new RegExp(`^${START} "GET /nowhere HTTP/1\\.1" 404 NR 0 0 \\d+ - "-" "-" "req-2" "[^"]+" "-"$`));
    assert.match(lines[1], new RegExp(`^${START} "GET /slow HTTP/1\\.1" 504 UT 0 24 \\d+ - "-" "-" "req-3" "[^"]+" "127\\.0\\.0\\.1:${upstreamPort}"$`));
  });

  it("flags a cluster without a resolvable host UH (no healthy upstream), as Envoy's router does", async () => {
    const unresolvedPath = join(dir, "unresolved.log");
    const { proxy: unresolvedProxy } = await startTestProxy([], (config) => {
      config.echoUpstream = false;
      config.clusters.push({ name: "nowhere", url: new URL("http://no-such-host.invalid:80"), http2: false, connectTimeoutMs: 5_000 });
      config.routes = [{ prefix: "/", cluster: "nowhere", timeoutMs: 15_000 }];
      config.accessLogs = [{ path: unresolvedPath, format: DEFAULT_ACCESS_LOG_FORMAT }];
    });
    try {
      assert.equal((await http1Request(`${unresolvedProxy.url}/x`, { headers: { "x-request-id": "req-uh" } })).status, 503);
      const [line] = await linesOf(unresolvedPath, 1);
      assert.match(line, new RegExp(`^${START} "GET /x HTTP/1\\.1" 503 UH 0 19 \\d+ - "-" "-" "req-uh" "[^"]+" "-"$`));
    } finally {
      await unresolvedProxy.close();
    }
  });

  it("says HTTP/2 for an h2c stream", async () => {
    const before = readLines(path).length;
    const client = connectH2(proxy.url);
    try {
      await new Promise<void>((resolve, reject) => {
        const stream = client.request({ ":method": "GET", ":path": "/api/h2", "x-request-id": "req-4" });
        stream.on("error", reject);
        stream.resume();
        stream.on("end", () => resolve());
      });
    } finally {
      client.close();
    }
    const [line] = (await linesOf(path, before + 1)).slice(before);
    assert.match(line, new RegExp(`^${START} "GET /api/h2 HTTP/2" 200 - 0 5 \\d+ \\d+ "-" "-" "req-4" "[^"]+" "127\\.0\\.0\\.1:${upstreamPort}"$`));
  });
});

describe("access log from an Envoy bootstrap's access_log", () => {
  it("reads envoy.access_loggers.file with a text_format_source, and names what it cannot print", async () => {
    const path = join(dir, "custom.log");
    // As in Envoy's docs: configuration/observability/access_log/usage (format strings) and the
    // FileAccessLog proto (envoy.extensions.access_loggers.file.v3).
    const bootstrap = join(dir, "bootstrap.yaml");
    writeFileSync(
      bootstrap,
      `static_resources:
  listeners:
  - name: listener_0
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: ${path}
              log_format:
                text_format_source:
                  inline_string: "%REQ(:METHOD)% %RESPONSE_CODE% %RESPONSE_CODE_DETAILS% %UPSTREAM_CLUSTER% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %REQ(:PATH):3% %CONNECTION_ID%\\n"
          - name: envoy.access_loggers.stdout
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
          - name: envoy.access_loggers.open_telemetry
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.open_telemetry.v3.OpenTelemetryAccessLogConfig
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: web }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: web
    load_assignment:
      cluster_name: web
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } }
`,
    );
    const { config, warnings } = loadConfigFile(bootstrap, dir);
    assert.deepEqual(config.accessLogs, [
      {
        path,
        format: "%REQ(:METHOD)% %RESPONSE_CODE% %RESPONSE_CODE_DETAILS% %UPSTREAM_CLUSTER% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %REQ(:PATH):3% %CONNECTION_ID%\n",
      },
      { path: "/dev/stdout", format: DEFAULT_ACCESS_LOG_FORMAT },
    ]);
    const hcm = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config";
    assert.deepEqual(
      warnings.filter((warning) => warning.includes("access_log")),
      [
        `${hcm}.access_log[0]: command operator %CONNECTION_ID% is not supported by the dev proxy; it prints -`,
        `${hcm}.access_log[2]: access logger type.googleapis.com/envoy.extensions.access_loggers.open_telemetry.v3.OpenTelemetryAccessLogConfig is not supported (only envoy.access_loggers.file, envoy.access_loggers.stdout and envoy.access_loggers.stderr); this access log is left out`,
      ],
    );

    config.listener.port = 0;
    config.accessLogs = config.accessLogs.slice(0, 1);
    const { proxy } = await startTestProxy([localReplyFilter({ status: 401, headers: [], body: Buffer.alloc(0), details: "denied_by_test" })], (test) => {
      test.accessLogs = config.accessLogs;
    });
    try {
      assert.equal((await http1Request(`${proxy.url}/private`)).status, 401);
      const [line] = await linesOf(path, 1);
      assert.equal(line, "GET 401 denied_by_test upstream 127.0.0.1 /pr -");
    } finally {
      await proxy.close();
    }
  });

  it("refuses a file access logger without a path", () => {
    const bootstrap = join(dir, "nopath.yaml");
    writeFileSync(
      bootstrap,
      JSON.stringify({
        static_resources: {
          listeners: [
            {
              address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
              filter_chains: [
                {
                  filters: [
                    {
                      name: "envoy.filters.network.http_connection_manager",
                      typed_config: {
                        stat_prefix: "x",
                        access_log: [{ name: "envoy.access_loggers.file", typed_config: {} }],
                        route_config: { virtual_hosts: [] },
                        http_filters: [{ name: "envoy.filters.http.router" }],
                      },
                    },
                  ],
                },
              ],
            },
          ],
        },
      }),
    );
    assert.throws(() => loadConfigFile(bootstrap, dir), /access_log\[0\]\.typed_config\.path: missing/);
  });
});

describe("run --access-log", () => {
  it("`--access-log -` writes Envoy's default format to stdout", async () => {
    const cli = captureIo(dir);
    const exit = main(["run", "--listen", "127.0.0.1:0", "--admin", "off", "--access-log", "-", "--log-level", "warning"], cli.io);
    try {
      await Promise.race([cli.ready, exit.then((code) => assert.fail(`run exited early with ${code}: ${cli.out.stderr}`))]);
      const url = cli.info().url as string;
      assert.equal((await http1Request(`${url}/hello`, { headers: { "x-request-id": "cli-1", "user-agent": "ua" } })).status, 200);
      await until(() => cli.out.stdout.includes('"cli-1"'), "the access log line on stdout");
      const line = cli.out.stdout.split("\n").find((text) => text.includes('"cli-1"'))!;
      assert.match(line, new RegExp(`^${START} "GET /hello HTTP/1\\.1" 200 - 0 \\d+ \\d+ \\d+ "-" "ua" "cli-1" "[^"]+" "127\\.0\\.0\\.1:\\d+"$`));
    } finally {
      cli.stop();
      assert.equal(await exit, 0);
    }
  });

  it("a log file that cannot be opened stops the start with its name", async () => {
    const cli = captureIo(dir);
    const missing = join(dir, "no-such-dir", "access.log");
    assert.equal(await main(["run", "--listen", "127.0.0.1:0", "--admin", "off", "--access-log", missing], cli.io), 1);
    assert.match(cli.out.stderr, new RegExp(`cannot open access log ${missing.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: ENOENT`));
  });
});

describe("access log format compiler", () => {
  const entry = {
    startTime: new Date("2026-03-04T05:06:07.089Z"),
    requestHeaders: [[":method", "GET"], [":path", "/a/very/long/path"], ["user-agent", "ua"]] as Array<[string, string]>,
    responseHeaders: [[":status", "200"], ["x-up", "7"]] as Array<[string, string]>,
    protocol: "HTTP/1.1",
    responseCode: 200,
    responseCodeDetails: "via_upstream",
    responseFlags: ["UT", "DC"],
    bytesReceived: 3,
    bytesSent: 12,
    durationMs: 42,
    upstreamHost: "10.0.0.1:80",
    upstreamCluster: "web",
    downstreamRemoteAddress: "[::1]:5555",
    downstreamLocalAddress: "127.0.0.1:10000",
  };

  it("renders operators, fallbacks, max lengths, flags and strftime START_TIME formats in UTC", () => {
    const warnings: string[] = [];
    const format = compileAccessLogFormat(
      "%START_TIME(%Y-%m-%dT%H:%M:%S.%3f%z)% %START_TIME(%s)% %REQ(X-MISSING?USER-AGENT)% %REQ(:PATH):7% %RESP(X-UP)% %RESPONSE_FLAGS% " +
        "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %UPSTREAM_CLUSTER% %REQ(X-NONE)% %START_TIME(%Q)%\n",
      (message) => warnings.push(message),
    );
    assert.equal(format(entry), "2026-03-04T05:06:07.089+0000 1772600767 ua /a/very 7 UT,DC ::1 web - %Q\n");
    assert.deepEqual(warnings, ["%START_TIME(%Q)%: %Q is not supported; it is printed as it is"]);
  });
});

describe("access_log in the dev proxy's own config format", () => {
  it("a relative path resolves against the config file's directory; `-` is stdout; both in Envoy's default format", () => {
    const file = join(dir, "short.yaml");
    writeFileSync(file, "access_log: logs/access.log\n");
    assert.deepEqual(loadConfigFile(file, "/elsewhere").config.accessLogs, [{ path: join(dir, "logs/access.log"), format: DEFAULT_ACCESS_LOG_FORMAT }]);
    writeFileSync(file, 'access_log: "-"\n');
    assert.deepEqual(loadConfigFile(file, "/elsewhere").config.accessLogs, [{ path: "/dev/stdout", format: DEFAULT_ACCESS_LOG_FORMAT }]);
  });
});

describe("run -c with an Envoy bootstrap: access log, /clusters and /config_dump", () => {
  it("the HCM's stdout access logger writes each request, and the admin port shows the bootstrap's cluster", async () => {
    const upstream = await startUpstream((req, res) => {
      req.resume();
      res.end("from upstream");
    });
    const upstreamPort = Number(new URL(upstream.url).port);
    // Written as Envoy's docs write a static bootstrap (configuration/overview/examples, static) with
    // a stdout access log (configuration/observability/access_log/stats, StdoutAccessLog).
    const bootstrap = join(dir, "run-bootstrap.yaml");
    writeFileSync(
      bootstrap,
      `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
static_resources:
  listeners:
  - name: listener_0
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          access_log:
          - name: envoy.access_loggers.stdout
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
              log_format:
                text_format_source:
                  inline_string: "ACCESS %REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %UPSTREAM_CLUSTER% %UPSTREAM_HOST%\\n"
          route_config:
            name: local_route
            virtual_hosts:
            - name: backend
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: service_backend }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: service_backend
    type: STATIC
    connect_timeout: 0.25s
    load_assignment:
      cluster_name: service_backend
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} } } }
`,
    );
    const proxy = await runBootstrapFile(bootstrap, ["--log-level", "warning"], dir);
    try {
      const { url, adminUrl } = proxy;
      const response = await http1Request(`${url}/items`);
      assert.equal(response.status, 200);
      assert.equal(response.body, "from upstream");
      await until(() => proxy.stdout().includes("ACCESS "), "the access log line");
      assert.ok(proxy.stdout().split("\n").includes(`ACCESS GET /items 200 service_backend 127.0.0.1:${upstreamPort}`), proxy.stdout());

      const clusters = await (await fetch(`${adminUrl}/clusters`)).text();
      assert.match(clusters, new RegExp(`^service_backend::127\\.0\\.0\\.1:${upstreamPort}::rq_total::1$`, "m"));
      assert.match(clusters, new RegExp(`^service_backend::127\\.0\\.0\\.1:${upstreamPort}::rq_success::1$`, "m"));
      const dump = (await (await fetch(`${adminUrl}/config_dump`)).json()) as { configs: Array<Record<string, any>> };
      const cluster = dump.configs[1].static_clusters[0].cluster;
      assert.deepEqual([cluster.name, cluster.type, cluster.connect_timeout], ["service_backend", "STATIC", "0.250s"]);
      const hcm = dump.configs[2].static_listeners[0].listener.filter_chains[0].filters[0].typed_config;
      assert.equal(hcm.access_log[0].typed_config.log_format.text_format_source.inline_string, "ACCESS %REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %UPSTREAM_CLUSTER% %UPSTREAM_HOST%\n");
    } finally {
      assert.equal(await proxy.stop(), 0);
      await upstream.close();
    }
  });
});

describe("access_log entries the dev proxy cannot write", () => {
  it("a JSON format (log_format.json_format or the older top-level json_format) is named and that log left out; a filter is named", () => {
    const warnings: string[] = [];
    const entries = [
      { name: "envoy.access_loggers.stdout", typed_config: { log_format: { json_format: { code: "%RESPONSE_CODE%" } } } },
      { name: "envoy.access_loggers.file", typed_config: { path: "/tmp/x.log", json_format: { code: "%RESPONSE_CODE%" } } },
      { name: "envoy.access_loggers.stderr", filter: { status_code_filter: {} } },
    ].map((entry, index) => ConfigReader.of(entry, `access_log[${index}]`, warnings));
    assert.deepEqual(readAccessLogs(entries), [{ path: "/dev/stderr", format: DEFAULT_ACCESS_LOG_FORMAT }]);
    assert.deepEqual(warnings, [
      "access_log[0].typed_config.log_format: JSON access log formats are not supported by the dev proxy; this access log is left out",
      "access_log[1].typed_config: JSON access log formats are not supported by the dev proxy; this access log is left out",
      "access_log[2].filter: access log filters are not supported; every stream is logged",
    ]);
  });
});
